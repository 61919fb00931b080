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

/**
 * Writes metric points to stdout in Embedded Metric Format through Powertools Metrics, one EMF
 * document per point: the point's own dimension sets and nothing else — no `service` default
 * dimension, no dimension left over from an earlier point. `emit` is synchronous (add, publish,
 * clear), so records a batch handles concurrently cannot interleave their dimensions.
 * `POWERTOOLS_METRICS_DISABLED=true` silences it like every Powertools metric.
 */
export class EmfMetricSink implements MetricSink {
  readonly #metrics: Metrics;

  constructor(options: EmfMetricSinkOptions = {}) {
    this.#metrics = new Metrics({
      ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
    this.#metrics.clearDefaultDimensions();
  }

  emit(points: readonly MetricPoint[]): void {
    for (const p of points) {
      try {
        // Each set becomes one entry of the document's Dimensions (an empty set: the total).
        for (const set of p.dimensionSets) this.#metrics.addDimensions({ ...set });
        this.#metrics.addMetric(p.name, p.unit, p.value);
      } finally {
        // Publishes the point and clears metrics and dimensions, also when adding it failed.
        this.#metrics.publishStoredMetrics();
      }
    }
  }
}
