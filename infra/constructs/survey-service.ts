import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { SOURCES } from '../../shared/events/names';
import { ComplaintFunction } from './base-function';
import { TABLE_ACCESS } from './table-access';
import type { Timers } from './timers';

export interface SurveyServiceProps {
  readonly table: dynamodb.Table;
  readonly bus: events.IEventBus;
  readonly policyFile: string;
  readonly timers: Timers;
}

/**
 * Survey dispatch: the Scheduler target of the survey timers. `survey_send` publishes
 * `Survey Requested` (and schedules the auto-close), `survey_close` closes an unanswered survey.
 *
 * Registered as the `survey` timer target. Created before the SLA service so that the SLA function
 * may hold this function's ARN; this function does not get the SLA function's ARN (that would be a
 * CloudFormation cycle) and never needs it: its timers are survey timers, addressed to itself.
 */
export class SurveyService extends Construct {
  readonly function: ComplaintFunction;

  constructor(scope: Construct, id: string, props: SurveyServiceProps) {
    super(scope, id);
    this.function = new ComplaintFunction(this, 'Function', {
      entry: 'functions/survey/handler.ts',
      serviceName: 'survey',
      description: 'Survey timers: send the satisfaction survey, close it when unanswered',
      policyFile: props.policyFile,
      timeout: Duration.seconds(30),
    });
    props.timers.addTarget('survey', this.function);
    this.function
      .useTable(props.table, TABLE_ACCESS.survey)
      .useEventBus(props.bus, { sources: [SOURCES.survey] })
      .useTimers(props.timers);
  }
}
