import { resolve } from 'node:path';
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { ThrottleSettings } from 'aws-cdk-lib/aws-apigatewayv2';
import type { Construct } from 'constructs';
import { loadPolicyFile } from '../shared/policy/load';
import type { Policy } from '../shared/policy/schema';
import { AssignmentService } from './constructs/assignment-service';
import { PROJECT_ROOT } from './constructs/base-function';
import { ClassificationService } from './constructs/classification-service';
import { IntakeService } from './constructs/intake-service';
import { Messaging } from './constructs/messaging';
import { Observability } from './constructs/observability';
import { ComplaintStore } from './constructs/storage';

/** The policy shipped with the service; a deployer replaces it with `-c policyFile=...`. */
export const DEFAULT_POLICY_FILE = resolve(PROJECT_ROOT, 'policy/default-policy.json');

export interface ComplaintServiceStackProps extends StackProps {
  /**
   * Policy document (categories, SLA matrix, calendar, routing…). Validated at synth: an invalid file
   * fails the synth with the list of problems. Relative paths resolve against the working directory.
   * @default {@link DEFAULT_POLICY_FILE}
   */
  readonly policyFile?: string;
  /** Existing SNS topic for alarm notifications. @default - no notifications */
  readonly alarmTopicArn?: string;
  /** Throttling of the public intake API. @default 50 requests/s, bursts of 100 */
  readonly apiThrottle?: ThrottleSettings;
  /** Browser origins allowed to call the intake API. @default - CORS disabled */
  readonly corsAllowOrigins?: string[];
}

/**
 * The complaint service: intake, classification and assignment around one table and one bus.
 *
 * Environment-agnostic (no lookups), so `cdk synth` needs no AWS credentials.
 */
export class ComplaintServiceStack extends Stack {
  /** The validated policy the functions are bundled with. */
  readonly policy: Policy;
  readonly policyFile: string;
  readonly store: ComplaintStore;
  readonly messaging: Messaging;
  readonly intake: IntakeService;
  readonly classification: ClassificationService;
  readonly assignment: AssignmentService;
  readonly observability: Observability;

  constructor(scope: Construct, id: string, props: ComplaintServiceStackProps = {}) {
    super(scope, id, {
      description: 'Complaint service: intake, classification and assignment',
      ...props,
    });
    this.policyFile = resolve(props.policyFile ?? DEFAULT_POLICY_FILE);
    // Throws PolicyValidationError (every problem with its path) before any bundling starts.
    this.policy = loadPolicyFile(this.policyFile);

    this.store = new ComplaintStore(this, 'Store');
    this.messaging = new Messaging(this, 'Messaging');
    const shared = {
      table: this.store.table,
      bus: this.messaging.bus,
      deliveryDeadLetterQueue: this.messaging.deliveryDeadLetterQueue,
      policyFile: this.policyFile,
    };
    this.intake = new IntakeService(this, 'Intake', {
      ...shared,
      ...(props.apiThrottle ? { throttle: props.apiThrottle } : {}),
      ...(props.corsAllowOrigins ? { corsAllowOrigins: props.corsAllowOrigins } : {}),
    });
    this.classification = new ClassificationService(this, 'Classification', shared);
    this.assignment = new AssignmentService(this, 'Assignment', shared);

    this.observability = new Observability(this, 'Observability', {
      api: this.intake.api,
      functions: [
        { label: 'IntakeApi', fn: this.intake.apiFunction },
        { label: 'IntakeInbound', fn: this.intake.inboundFunction },
        { label: 'Classification', fn: this.classification.function },
        { label: 'Assignment', fn: this.assignment.function },
      ],
      consumers: [
        { label: 'IntakeInbound', consumer: this.intake.inbound },
        { label: 'Classification', consumer: this.classification.consumer },
        { label: 'Assignment', consumer: this.assignment.consumer },
      ],
      otherDeadLetterQueues: [{ label: 'EventDelivery', queue: this.messaging.deliveryDeadLetterQueue }],
      ...(props.alarmTopicArn ? { alarmTopicArn: props.alarmTopicArn } : {}),
    });

    new CfnOutput(this, 'ApiUrl', { description: 'Intake API base URL', value: this.intake.stage.url });
    new CfnOutput(this, 'TableName', { value: this.store.table.tableName });
    new CfnOutput(this, 'EventBusName', { value: this.messaging.bus.eventBusName });
    new CfnOutput(this, 'EventBusArn', { value: this.messaging.bus.eventBusArn });
  }
}
