import { beforeAll, describe, expect, it } from 'vitest';
import { ARCHIVE_EXCLUDED_DETAIL_TYPES, BUS_POLICY_SIDS } from '../../infra/constructs/messaging';
import {
  DETAIL_TYPES,
  INBOUND_DETAIL_TYPES,
  INTERNAL_DETAIL_TYPES,
  OWN_SOURCE_PREFIX,
  SOURCES,
} from '../../shared/events/names';
import {
  asArray,
  type CfnResource,
  getAttId,
  iamStatements,
  resourcesOfType,
  type SynthesizedStack,
  single,
  synthesizeStack,
} from './template-helpers';

/**
 * "Only the service speaks for the service" (issue #10): the bus policy denies internal sources and
 * detail-types to everyone but the function roles, each function may publish only its own sources,
 * and the archive keeps no event that carries personal data or a tracking token.
 */

let synthesized: SynthesizedStack;
let busId: string;
let functions: Map<string, CfnResource>;

beforeAll(() => {
  synthesized = synthesizeStack({}, { bundle: false });
  busId = single(resourcesOfType(synthesized.template, 'AWS::Events::EventBus').keys(), 'event bus');
  functions = resourcesOfType(synthesized.template, 'AWS::Lambda::Function');
}, 120_000);

/** Function logical id prefix → the sources it publishes (read from each handler's services). */
const EXPECTED_SOURCES: Record<string, string[]> = {
  IntakeApiFunction: [SOURCES.intake],
  IntakeInboundFunction: [SOURCES.intake],
  ClassificationFunction: [SOURCES.classification],
  AssignmentFunction: [SOURCES.assignment],
  SlaTimerFunction: [SOURCES.sla],
  // The sweep also repairs lost hand-offs from intake with intake's own events (shared/domain/handoff.ts).
  SlaSweepFunction: [SOURCES.sla, SOURCES.survey, SOURCES.intake],
  SurveyFunction: [SOURCES.survey],
  AgentApiFunction: [SOURCES.agent, SOURCES.intake],
  CustomerApiFunction: [SOURCES.customer],
  ReportingGeneratorFunction: [SOURCES.reporting],
  ReportingApiFunction: [SOURCES.reporting],
  PrivacyWorkerFunction: [SOURCES.privacy],
};

const roleOf = (functionId: string): string => getAttId(functions.get(functionId)?.Properties.Role) as string;
const functionId = (prefix: string): string =>
  single(
    [...functions.keys()].filter((id) => id.startsWith(prefix)),
    `function ${prefix}`,
  );

interface Statement {
  Sid?: string;
  Effect: string;
  Principal?: unknown;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

function busPolicyStatements(): Statement[] {
  return [...resourcesOfType(synthesized.template, 'AWS::Events::EventBusPolicy').values()].map((policy) => {
    expect(policy.Properties.EventBusName).toEqual({ Ref: busId });
    return policy.Properties.Statement as Statement;
  });
}

describe('publishing grants', () => {
  it('lets each function put events on the project bus only, and only with the sources it owns', () => {
    const grants = iamStatements(synthesized.template).filter((s) =>
      asArray(s.statement.Action).some((a) => a.startsWith('events:')),
    );
    const byFunction: Record<string, string[]> = {};
    for (const prefix of Object.keys(EXPECTED_SOURCES)) {
      const role = roleOf(functionId(prefix));
      const own = grants.filter((g) => g.roles.includes(role));
      const { statement } = single(own, `PutEvents grant of ${prefix}`);
      expect(asArray(statement.Action)).toEqual(['events:PutEvents']);
      expect(statement.Resource).toEqual({ 'Fn::GetAtt': [busId, 'Arn'] });
      const condition = (statement as Statement).Condition;
      expect(Object.keys(condition ?? {})).toEqual(['StringEquals']);
      byFunction[prefix] = asArray(condition?.StringEquals?.['events:source'] as string | string[]).sort();
    }
    expect(byFunction).toEqual(
      Object.fromEntries(Object.entries(EXPECTED_SOURCES).map(([k, v]) => [k, [...v].sort()])),
    );
    // Nothing else may publish: the aggregator has no grant, and no grant lacks the source condition.
    expect(grants).toHaveLength(Object.keys(EXPECTED_SOURCES).length);
    const aggregatorRole = roleOf(functionId('ReportingAggregatorFunction'));
    expect(grants.some((g) => g.roles.includes(aggregatorRole))).toBe(false);
  });
});

describe('bus policy', () => {
  const publisherRoles = () =>
    Object.keys(EXPECTED_SOURCES)
      .map((prefix) => roleOf(functionId(prefix)))
      .sort();
  const rolesIn = (value: unknown) =>
    asArray(value as unknown[])
      .map((arn) => getAttId(arn))
      .sort();

  it('denies PutEvents with a complaints.* source to every principal but the publishing function roles', () => {
    const statement = single(
      busPolicyStatements().filter((s) => s.Sid === `cdk-${BUS_POLICY_SIDS.ownSources}`),
      'own-sources statement',
    );
    expect(statement).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'events:PutEvents',
      Resource: { 'Fn::GetAtt': [busId, 'Arn'] },
    });
    expect(statement.Condition?.StringLike).toEqual({ 'events:source': [`${OWN_SOURCE_PREFIX}*`] });
    expect(rolesIn(statement.Condition?.ArnNotEquals?.['aws:PrincipalArn'])).toEqual(publisherRoles());
  });

  it('denies every internal detail-type to every principal but the publishing function roles, and leaves the inbound ones open', () => {
    const statement = single(
      busPolicyStatements().filter((s) => s.Sid === `cdk-${BUS_POLICY_SIDS.internalDetailTypes}`),
      'internal detail-types statement',
    );
    expect(statement).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'events:PutEvents',
      Resource: { 'Fn::GetAtt': [busId, 'Arn'] },
    });
    const denied = asArray(statement.Condition?.StringEquals?.['events:detail-type'] as string[]);
    expect([...denied].sort()).toEqual([...INTERNAL_DETAIL_TYPES].sort());
    expect(denied).toContain(DETAIL_TYPES.complaintReceived);
    expect(denied).toContain(DETAIL_TYPES.surveyAnswered);
    for (const inbound of INBOUND_DETAIL_TYPES) expect(denied).not.toContain(inbound);
    // Every detail-type of the contract is either inbound or denied to outsiders.
    for (const type of Object.values(DETAIL_TYPES)) {
      expect(INBOUND_DETAIL_TYPES.includes(type) || denied.includes(type), type).toBe(true);
    }
    expect(rolesIn(statement.Condition?.ArnNotEquals?.['aws:PrincipalArn'])).toEqual(publisherRoles());
  });

  it('has no statement that allows anything', () => {
    for (const statement of busPolicyStatements()) expect(statement.Effect).toBe('Deny');
  });
});

describe('archive', () => {
  it('keeps every event for replay except the detail-types that carry personal data or tracking tokens', () => {
    const archive = single(resourcesOfType(synthesized.template, 'AWS::Events::Archive').values(), 'archive');
    expect(archive.Properties.SourceArn).toEqual({ 'Fn::GetAtt': [busId, 'Arn'] });
    expect(archive.Properties.RetentionDays).toBe(365);
    const pattern = archive.Properties.EventPattern as Record<string, unknown>;
    expect(pattern.source).toEqual([{ prefix: '' }]);
    const excluded = (pattern['detail-type'] as [{ 'anything-but': string[] }])[0]['anything-but'];
    expect([...excluded].sort()).toEqual(
      [
        DETAIL_TYPES.complaintReported,
        'Customer Profile Updated',
        DETAIL_TYPES.customerNotificationRequested,
        DETAIL_TYPES.surveyRequested,
      ].sort(),
    );
    expect([...excluded].sort()).toEqual([...ARCHIVE_EXCLUDED_DETAIL_TYPES].sort());
    // What reports and replays need stays in.
    for (const kept of [DETAIL_TYPES.complaintReceived, DETAIL_TYPES.surveyAnswered, DETAIL_TYPES.closed]) {
      expect(excluded).not.toContain(kept);
    }
  });
});
