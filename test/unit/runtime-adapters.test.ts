import { describe, expect, it } from 'vitest';
import { kmsServiceKeys } from '../../shared/clients/kms';
import { eventBridgeTimers } from '../../shared/clients/scheduler';
import { createRuntime } from '../../shared/handlers/runtime';
import { bundledPolicyEnv } from '../support/fixtures';

const base = {
  TABLE_NAME: 'complaints',
  EVENT_BUS_NAME: 'bus',
  ...bundledPolicyEnv(),
  AWS_REGION: 'us-east-1',
};
const timers = {
  SCHEDULE_GROUP_NAME: 'timers',
  SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/scheduler',
};
const key = { SERVICE_KEY_ARN: 'arn:aws:kms:us-east-1:123456789012:key/1234' };

describe('the adapters a handler passes to createRuntime (one AWS client per use, shared/clients/)', () => {
  it('schedules through EventBridge Scheduler only when the stack configured timers and the handler brought the adapter', async () => {
    const change = { upsert: [], remove: ['complaint-ack-due'] };
    const { ctx } = createRuntime({}, { ...base, ...timers });
    await expect(ctx.scheduler.apply(change)).rejects.toThrow(/eventBridgeTimers/);
    expect(
      createRuntime({ timers: eventBridgeTimers }, { ...base, ...timers }).ctx.scheduler.constructor.name,
    ).toBe('EventBridgeTimerScheduler');
    expect(createRuntime({ timers: eventBridgeTimers }, base).ctx.scheduler.constructor.name).toBe(
      'UnconfiguredScheduler',
    );
  });

  it('derives keys through KMS only when the stack named the key and the handler brought the adapter', () => {
    expect(createRuntime({}, { ...base, ...key }).ctx.keys.constructor.name).toBe('UnconfiguredServiceKeys');
    expect(createRuntime({ keys: kmsServiceKeys }, { ...base, ...key }).ctx.keys.constructor.name).toBe(
      'KmsServiceKeys',
    );
  });

  it('refuses to schedule or derive in a function configured for neither', async () => {
    const { ctx } = createRuntime({}, base);
    await expect(ctx.scheduler.apply({ upsert: [], remove: ['x'] })).rejects.toThrow(/cannot schedule/);
    await expect(ctx.keys.key('tracking-token')).rejects.toThrow();
  });
});

describe('the policy a function loads at its cold start (shared/policy/bundled.ts)', () => {
  it('is the one synth validated: a file whose digest differs fails the cold start', () => {
    const other = bundledPolicyEnv().POLICY_SHA256.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    expect(() => createRuntime({}, { ...base, POLICY_SHA256: other })).toThrow(
      /not the one this function was synthesized with/,
    );
    expect(() => createRuntime({}, { ...base, POLICY_SHA256: undefined })).toThrow(/POLICY_SHA256/);
  });
});
