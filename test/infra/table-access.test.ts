import type { CfnElement } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ComplaintFunction } from '../../infra/constructs/base-function';
import {
  asArray,
  getAttId,
  iamStatements,
  resourcesOfType,
  type SynthesizedStack,
  single,
  synthesizeStack,
} from './template-helpers';

/**
 * Each function's table grants, read back from the synthesized template and compared with what its
 * handler's store calls need (written out here, not derived from `table-access.ts`, so a widened map
 * fails this test).
 */

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** action → item key patterns, and the indexes queried. */
interface Expected {
  items: Record<string, string[]>;
  indexes: string[];
}

const COMPLAINT_RW = { GetItem: ['C#*'], PutItem: ['C#*'] };

const EXPECTED: Record<string, Expected> = {
  IntakeApi: {
    items: { GetItem: ['C#*', 'IDEMP#*'], PutItem: ['C#*', 'IDEMP#*', 'NUM#*', 'TRACK#*'] },
    indexes: [],
  },
  IntakeInbound: {
    items: {
      GetItem: ['C#*', 'CUSTDIR#*', 'IDEMP#*'],
      PutItem: ['C#*', 'CUSTDIR#*', 'IDEMP#*', 'NUM#*', 'TRACK#*'],
    },
    indexes: [],
  },
  Classification: { items: COMPLAINT_RW, indexes: ['gsi3'] },
  Assignment: {
    items: { ...COMPLAINT_RW, BatchGetItem: ['AGENT#*'], UpdateItem: ['AGENT#*'] },
    indexes: [],
  },
  SlaTimer: { items: COMPLAINT_RW, indexes: [] },
  SlaSweep: { items: COMPLAINT_RW, indexes: ['gsi1'] },
  SurveyTimer: { items: COMPLAINT_RW, indexes: [] },
  AgentApi: {
    items: {
      GetItem: ['C#*', 'CUSTDIR#*', 'IDEMP#*', 'NUM#*'],
      PutItem: ['C#*', 'CUSTDIR#*', 'IDEMP#*', 'NUM#*', 'TRACK#*'],
      Query: ['C#*'],
      BatchGetItem: ['AGENT#*'],
      UpdateItem: ['AGENT#*'],
    },
    indexes: ['gsi1', 'gsi2', 'gsi3'],
  },
  CustomerApi: {
    items: { GetItem: ['C#*', 'TRACK#*'], Query: ['C#*'], PutItem: ['C#*'], UpdateItem: ['AGENT#*'] },
    indexes: [],
  },
  ReportAggregator: {
    items: { GetItem: ['C#*', 'FACTS#*'], PutItem: ['FACTS#*'], UpdateItem: ['AGG#*', 'REPORTING'] },
    indexes: [],
  },
  ReportGenerator: {
    items: { GetItem: ['REPORTING'], BatchGetItem: ['AGG#*'], PutItem: ['REPORT#*'] },
    indexes: [],
  },
  ReportsApi: {
    items: { GetItem: ['REPORT#*', 'REPORTING'], BatchGetItem: ['AGG#*'], PutItem: ['REPORT#*'] },
    indexes: [],
  },
  PrivacyApi: {
    items: { GetItem: ['ERASEREQ#*', 'ERASURE#*'], PutItem: ['ERASEREQ#*', 'ERASURE#*'] },
    indexes: [],
  },
  PrivacyWorker: {
    items: {
      GetItem: ['C#*', 'ERASURE#*', 'IDEMP#*'],
      Query: ['C#*'],
      PutItem: ['C#*', 'IDEMP#*'],
      DeleteItem: ['CUSTDIR#*', 'TRACK#*'],
      UpdateItem: ['ERASURE#*'],
    },
    indexes: ['gsi3', 'gsi4'],
  },
  PrivacyRetention: {
    items: { GetItem: ['ERASEREQ#*', 'ERASURE#*'], PutItem: ['ERASEREQ#*', 'ERASURE#*'] },
    indexes: [],
  },
};

const WRITES = ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'ConditionCheckItem'];

let synthesized: SynthesizedStack;
let tableId: string;
let roles: Map<string, string>;

beforeAll(() => {
  synthesized = synthesizeStack({}, { bundle: false, id: 'TableAccessTest' });
  const { stack, template } = synthesized;
  tableId = single(resourcesOfType(template, 'AWS::DynamoDB::Table').keys(), 'table');
  const fns: Record<string, ComplaintFunction> = {
    IntakeApi: stack.intake.apiFunction,
    IntakeInbound: stack.intake.inboundFunction,
    Classification: stack.classification.function,
    Assignment: stack.assignment.function,
    SlaTimer: stack.sla.timerFunction,
    SlaSweep: stack.sla.sweepFunction,
    SurveyTimer: stack.survey.function,
    AgentApi: stack.agentApi.function,
    CustomerApi: stack.customerApi.function,
    ReportAggregator: stack.reporting.aggregator,
    ReportGenerator: stack.reporting.generator,
    ReportsApi: stack.reporting.apiFunction,
    PrivacyApi: stack.privacy.apiFunction,
    PrivacyWorker: stack.privacy.worker,
    PrivacyRetention: stack.privacy.retentionFunction,
  };
  roles = new Map(
    Object.entries(fns).map(([label, fn]) => [
      label,
      stack.getLogicalId(fn.role.node.defaultChild as CfnElement),
    ]),
  );
}, 120_000);

function dynamoStatements(label: string): Statement[] {
  const roleId = roles.get(label);
  return iamStatements(synthesized.template)
    .filter((s) => s.roles.includes(roleId as string))
    .map((s) => s.statement as unknown as Statement)
    .filter((s) => asArray(s.Action).some((a) => a.startsWith('dynamodb:')));
}

const isTable = (resource: unknown) => getAttId(resource) === tableId;

/** The item grants of a role as action → sorted key patterns. */
function itemGrants(label: string): Record<string, string[]> {
  const grants: Record<string, Set<string>> = {};
  for (const statement of dynamoStatements(label).filter((s) => isTable(s.Resource))) {
    const patterns = asArray(
      statement.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'] as string[] | undefined,
    );
    for (const action of asArray(statement.Action)) {
      const name = action.replace('dynamodb:', '');
      grants[name] ??= new Set();
      for (const p of patterns) grants[name].add(p);
    }
  }
  return Object.fromEntries(Object.entries(grants).map(([a, set]) => [a, [...set].sort()]));
}

function indexGrants(label: string): string[] {
  return dynamoStatements(label)
    .filter((s) => !isTable(s.Resource))
    .flatMap((s) => asArray(s.Resource))
    .map((r) => {
      const parts = (r as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
      return String(parts.at(-1)).replace('/index/', '');
    })
    .sort();
}

describe('table grants per function', () => {
  it('covers every function', () => {
    expect([...roles.keys()].sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const [label, expected] of Object.entries(EXPECTED)) {
    it(`${label}: exactly the items and actions its store calls need`, () => {
      expect(itemGrants(label)).toEqual(
        Object.fromEntries(Object.entries(expected.items).map(([a, p]) => [a, [...p].sort()])),
      );
      expect(indexGrants(label)).toEqual(expected.indexes);
    });
  }

  it('conditions every item statement on the leading key, present (Null false), on the table only', () => {
    for (const label of roles.keys()) {
      for (const statement of dynamoStatements(label).filter((s) => isTable(s.Resource))) {
        expect(statement.Effect).toBe('Allow');
        expect(Object.keys(statement.Condition ?? {}).sort(), label).toEqual([
          'ForAllValues:StringLike',
          'Null',
        ]);
        expect(statement.Condition?.Null, label).toEqual({ 'dynamodb:LeadingKeys': 'false' });
        const patterns = statement.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'];
        expect(asArray(patterns as string[]).length, label).toBeGreaterThan(0);
        for (const pattern of asArray(patterns as string[])) expect(pattern, label).not.toBe('*');
      }
    }
  });

  it('grants indexes only Query, on named indexes (no index/*), and never Scan', () => {
    for (const label of roles.keys()) {
      for (const statement of dynamoStatements(label)) {
        expect(asArray(statement.Action), label).not.toContain('dynamodb:Scan');
        if (isTable(statement.Resource)) continue;
        expect(asArray(statement.Action), label).toEqual(['dynamodb:Query']);
        expect(JSON.stringify(statement.Resource), label).not.toContain('index/*');
      }
    }
  });

  it('lets no function but the aggregator write AGG# buckets', () => {
    for (const label of roles.keys()) {
      const grants = itemGrants(label);
      const writesAgg = WRITES.some((a) => (grants[a] ?? []).some((p) => p.startsWith('AGG#')));
      expect(writesAgg, label).toBe(label === 'ReportAggregator');
    }
  });

  it('gives DeleteItem only to the erasure worker (tracking pointers, directory entries) and BatchWriteItem to none', () => {
    for (const label of roles.keys()) {
      if (label !== 'PrivacyWorker') expect(itemGrants(label).DeleteItem, label).toBeUndefined();
      expect(itemGrants(label).BatchWriteItem, label).toBeUndefined();
    }
    expect(itemGrants('PrivacyWorker').DeleteItem).toEqual(['CUSTDIR#*', 'TRACK#*']);
  });

  it('gives read-only grants to the functions that only read: the report readers never write facts or complaints', () => {
    for (const label of ['ReportGenerator', 'ReportsApi']) {
      const grants = itemGrants(label);
      for (const action of WRITES) {
        for (const pattern of grants[action] ?? []) expect(pattern, `${label} ${action}`).toBe('REPORT#*');
      }
    }
  });
});
