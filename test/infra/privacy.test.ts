import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ComplaintServiceStack } from '../../infra/complaint-service-stack';
import { RETENTION_SCHEDULE } from '../../infra/constructs/privacy-service';
import { MAX_RECEIVE_COUNT } from '../../infra/constructs/queue-consumer';
import { DEFAULT_POLICY_PATH } from '../support/fixtures';
import {
  asArray,
  type CfnResource,
  getAttId,
  iamStatements,
  resourcesOfType,
  type SynthesizedStack,
  synthesizeStack,
} from './template-helpers';

let synthesized: SynthesizedStack;
let stack: ComplaintServiceStack;
/** The same stack with `privacy.retentionDays: 3`: every queue must keep messages 3 days at most. */
let shortRetention: SynthesizedStack;

const idOf = (s: ComplaintServiceStack, construct: { node: { defaultChild?: unknown } }) =>
  s.getLogicalId(construct.node.defaultChild as never);

beforeAll(() => {
  synthesized = synthesizeStack({}, { bundle: false });
  stack = synthesized.stack;
  const policy = JSON.parse(readFileSync(DEFAULT_POLICY_PATH, 'utf8'));
  const file = join(mkdtempSync(join(tmpdir(), 'privacy-policy-')), 'policy.json');
  writeFileSync(file, JSON.stringify({ ...policy, privacy: { retentionDays: 3 } }));
  shortRetention = synthesizeStack({ policyFile: file }, { bundle: false, id: 'Short' });
}, 120_000);

const functionOf = (s: SynthesizedStack, id: string) =>
  resourcesOfType(s.template, 'AWS::Lambda::Function').get(id) as CfnResource;
const envOf = (s: SynthesizedStack, id: string) =>
  (functionOf(s, id).Properties.Environment as { Variables: Record<string, unknown> }).Variables;

describe('privacy service: erasure queue, worker, retention schedule', () => {
  it('feeds the worker from its own queue, one message a round, with partial batch responses and a DLQ', () => {
    const queueId = idOf(stack, stack.privacy.queue);
    const queue = resourcesOfType(synthesized.template, 'AWS::SQS::Queue').get(queueId) as CfnResource;
    expect(queue.Properties.RedrivePolicy).toMatchObject({ maxReceiveCount: MAX_RECEIVE_COUNT });
    expect(
      getAttId((queue.Properties.RedrivePolicy as { deadLetterTargetArn: unknown }).deadLetterTargetArn),
    ).toBe(idOf(stack, stack.privacy.deadLetterQueue));
    const workerId = idOf(stack, stack.privacy.worker.function);
    const timeout = Number(functionOf(synthesized, workerId).Properties.Timeout);
    expect(Number(queue.Properties.VisibilityTimeout)).toBeGreaterThanOrEqual(6 * timeout);
    const mappings = [
      ...resourcesOfType(synthesized.template, 'AWS::Lambda::EventSourceMapping').values(),
    ].filter((m) => getAttId(m.Properties.EventSourceArn) === queueId);
    expect(mappings).toHaveLength(1);
    expect(mappings[0]?.Properties).toMatchObject({
      FunctionName: { Ref: workerId },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('lets exactly the API, the worker and the retention run send to the erasure queue, and names it to them', () => {
    const queueId = idOf(stack, stack.privacy.queue);
    const senders = iamStatements(synthesized.template)
      .filter(
        ({ statement }) =>
          asArray(statement.Action).includes('sqs:SendMessage') &&
          asArray(statement.Resource as unknown[]).some((r) => getAttId(r) === queueId),
      )
      .flatMap((s) => s.roles)
      .sort();
    const roles = [stack.privacy.apiFunction, stack.privacy.worker, stack.privacy.retentionFunction]
      .map((f) => idOf(stack, f.role))
      .sort();
    expect(senders).toEqual(roles);
    for (const fn of [stack.privacy.apiFunction, stack.privacy.worker, stack.privacy.retentionFunction]) {
      expect(envOf(synthesized, idOf(stack, fn.function)).ERASURE_QUEUE_URL).toEqual({ Ref: queueId });
    }
  });

  it('runs the retention function daily on a scheduled rule, with retries and a DLQ', () => {
    const retentionId = idOf(stack, stack.privacy.retentionFunction.function);
    const rule = resourcesOfType(synthesized.template, 'AWS::Events::Rule').get(
      idOf(stack, stack.privacy.retentionRule),
    ) as CfnResource;
    expect(rule.Properties.ScheduleExpression).toBe(RETENTION_SCHEDULE);
    const [target] = asArray(rule.Properties.Targets as Record<string, unknown>[]);
    expect(getAttId(target?.Arn)).toBe(retentionId);
    expect(target).toMatchObject({ RetryPolicy: { MaximumRetryAttempts: 2 } });
    expect(getAttId((target?.DeadLetterConfig as { Arn: unknown } | undefined)?.Arn)).toBe(
      idOf(stack, stack.messaging.deliveryDeadLetterQueue as never),
    );
  });

  it('keeps no queue message longer than the retention period (SQS: 14 days at most)', () => {
    const periods = (s: SynthesizedStack) =>
      [...resourcesOfType(s.template, 'AWS::SQS::Queue').values()].map((q) =>
        Number(q.Properties.MessageRetentionPeriod ?? 4 * 86_400),
      );
    expect(Math.max(...periods(synthesized))).toBe(14 * 86_400);
    const short = periods(shortRetention);
    expect(short.length).toBeGreaterThan(5);
    for (const p of short) expect(p).toBeLessThanOrEqual(3 * 86_400);
    // The event archive keeps events no longer than personal data either.
    const [archive] = resourcesOfType(shortRetention.template, 'AWS::Events::Archive').values();
    expect(archive?.Properties.RetentionDays).toBe(3);
  });
});
