import { Console } from 'node:console';
import type { GenericLogger } from '@aws-lambda-powertools/commons/types';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { MetricPoint } from './lifecycle-metrics';

/** Where metric points go. */
export interface MetricSink {
  emit(points: readonly MetricPoint[]): void;
}

export interface EmfMetricSinkOptions {
  /** @default POWERTOOLS_METRICS_NAMESPACE */
  readonly namespace?: string;
  /** Receives Powertools' own warnings. @default the console */
  readonly logger?: GenericLogger;
}

/** Powertools Metrics, with its on/off switch readable (POWERTOOLS_METRICS_DISABLED, POWERTOOLS_DEV). */
class SwitchableMetrics extends Metrics {
  get off(): boolean {
    return this.isDisabled();
  }
}

/**
 * Writes metric points to stdout, one JSON document per point, which CloudWatch Logs stores in the
 * function's log group: the figure under its name (`"SlaBreaches": 1`) and the point's fields
 * (`"clock": "resolution"`, …) as top-level properties, so Logs Insights reads every document the
 * same way (`stats sum(SlaBreaches) by department`).
 *
 * - A point with `metric` is an Embedded Metric Format document (through Powertools Metrics) whose
 *   directive extracts one metric, the total: the namespace, no dimension (`Dimensions: [[]]`); its
 *   fields ride along as plain properties — no `service` default dimension, nothing left over from
 *   an earlier point.
 * - Any other point is the same document without the `_aws` directive: a log line, no metric.
 *
 * `emit` is synchronous (add, publish, clear), so records a batch handles concurrently cannot
 * interleave their properties. `POWERTOOLS_METRICS_DISABLED=true` silences both kinds, like every
 * Powertools metric.
 */
export class EmfMetricSink implements MetricSink {
  readonly #metrics: SwitchableMetrics;
  /** Straight to stdout like Powertools' own EMF output (never through Lambda's patched console). */
  readonly #console = new Console({ stdout: process.stdout, stderr: process.stderr });

  constructor(options: EmfMetricSinkOptions = {}) {
    this.#metrics = new SwitchableMetrics({
      ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
    this.#metrics.clearDefaultDimensions();
  }

  emit(points: readonly MetricPoint[]): void {
    for (const p of points) {
      if (p.metric) this.#metric(p);
      else if (!this.#metrics.off) this.#console.log(JSON.stringify({ [p.name]: p.value, ...p.fields }));
    }
  }

  #metric(p: MetricPoint): void {
    try {
      // The empty dimension set: the total only.
      this.#metrics.addDimensions({});
      for (const [key, value] of Object.entries(p.fields)) this.#metrics.addMetadata(key, value);
      this.#metrics.addMetric(p.name, p.unit, p.value);
    } finally {
      // Publishes the point and clears metrics, dimensions and metadata, also when adding it failed.
      this.#metrics.publishStoredMetrics();
    }
  }
}
