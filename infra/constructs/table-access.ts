import { INDEXES } from '../../shared/storage/table-schema';

/**
 * Which items of the single table each function may touch, and how: the one place the table grants
 * are decided (`ComplaintFunction.useTable` turns an entry into IAM statements).
 *
 * Item access is narrowed with `dynamodb:LeadingKeys` (the partition key of the request's item or
 * items), as `ForAllValues:StringLike` on the key patterns below plus a `Null` check, so a request
 * without a partition key in its context (which `ForAllValues` would let through) is refused. AWS
 * evaluates it per key: a `BatchGetItem`/`BatchWriteItem` carries all its keys (each must match),
 * and each member of `TransactWriteItems`/`TransactGetItems` is authorized as its own action
 * (`PutItem`, `UpdateItem`, `DeleteItem`, `ConditionCheckItem`, `GetItem`) on its own key.
 *
 * Index queries are granted apart: `dynamodb:Query` on the named index ARNs only, without a
 * LeadingKeys condition. AWS documents LeadingKeys as the *table's* partition key; what it compares
 * for a query on a global secondary index (whose request names the index partition key) is not
 * documented, so the index grants do not depend on it. An index only returns its projected
 * attributes (no complaint text, see `table-schema.ts`), and only the functions that query an index
 * get it.
 *
 * Adding an item prefix (e.g. `CUSTDIR#` for a customer directory, `ERASURE#` for erasures) is one
 * line in {@link ITEM_KEYS}, then its name in the `items` of the grants of the functions that use it.
 */
export const ITEM_KEYS = {
  /** A complaint (`C#<id>` / `META`) and its timeline entries (`TL#…`): one partition. */
  complaint: 'C#*',
  /** Idempotency claims `IDEMP#<source>#<message id>`. */
  idempotency: 'IDEMP#*',
  /** Complaint number claims `NUM#<number>`. */
  number: 'NUM#*',
  /** Tracking pointers `TRACK#<sha256(token)>`. */
  tracking: 'TRACK#*',
  /** Agents' open-complaint counters `AGENT#<id>` / `LOAD`. */
  agentLoad: 'AGENT#*',
  /** Per-complaint report facts `FACTS#<id>`. */
  facts: 'FACTS#*',
  /** Day/month aggregate buckets `AGG#<DAY|MONTH>#<date>#<shard>`. */
  aggregate: 'AGG#*',
  /** Stored reports `REPORT#<kind>#<period id>`. */
  report: 'REPORT#*',
  /** The reporting meta item (`REPORTING` / `META`): exactly this key. */
  reportingMeta: 'REPORTING',
  /** The customer directory `CUSTDIR#<customerKey>` (tier from a trusted source). */
  customerDirectory: 'CUSTDIR#*',
  /** Erasure records `ERASURE#<id>` (the audit of an erasure, without the data). */
  erasure: 'ERASURE#*',
  /** Erasure request claims `ERASEREQ#<digest>` (the same customer again within a week: the same erasure). */
  erasureRequest: 'ERASEREQ#*',
} as const;

export type ItemKind = keyof typeof ITEM_KEYS;

/** The DynamoDB item actions a grant may name (no Scan: it has no leading key). */
export type ItemAction =
  | 'GetItem'
  | 'BatchGetItem'
  | 'Query'
  | 'PutItem'
  | 'UpdateItem'
  | 'DeleteItem'
  | 'BatchWriteItem'
  | 'ConditionCheckItem';

/** Actions that change or remove items. */
export const WRITE_ACTIONS: readonly ItemAction[] = [
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
  'ConditionCheckItem',
];

export type IndexName = (typeof INDEXES)[keyof typeof INDEXES]['name'];

export interface ItemGrant {
  readonly actions: readonly ItemAction[];
  readonly items: readonly ItemKind[];
}

/** One function's table access: item grants, the indexes it queries, and why. */
export interface TableAccess {
  /** Why the function needs exactly this (kept next to the grant so a reviewer can check it). */
  readonly why: string;
  readonly grants: readonly ItemGrant[];
  /** Indexes it queries (`dynamodb:Query` on each index ARN). */
  readonly indexes?: readonly IndexName[];
}

const { byDepartment, byAssignee, byCustomer, retention } = INDEXES;

/**
 * Per function, derived from the store calls of its handler's services (`shared/storage/*-store.ts`).
 * A complaint write is a conditional `PutItem` of the record, then `PutItem`s of its timeline entries;
 * a transaction only where an agent's place within capacity is claimed with it (`UpdateItem`), and
 * report facts with their buckets. Only the erasure deletes items.
 */
export const TABLE_ACCESS = {
  intake: {
    why:
      'receiveComplaint: create() puts IDEMP#, NUM#, C# (record and first timeline entry) and TRACK# in ' +
      'one transaction; a seen key reads its IDEMP# claim and the complaint it points at. Anonymous ' +
      'submissions never read the customer directory.',
    grants: [
      { actions: ['PutItem'], items: ['idempotency', 'number', 'complaint', 'tracking'] },
      { actions: ['GetItem'], items: ['idempotency', 'complaint'] },
    ],
  },
  intakeInbound: {
    why:
      'As intake, plus the customer directory: a producer complaint reads the tier (GetItem CUSTDIR#), a ' +
      'Customer Profile Updated event writes it (conditional PutItem CUSTDIR#).',
    grants: [
      {
        actions: ['PutItem'],
        items: ['idempotency', 'number', 'complaint', 'tracking', 'customerDirectory'],
      },
      { actions: ['GetItem'], items: ['idempotency', 'complaint', 'customerDirectory'] },
    ],
  },
  classification: {
    why:
      'classifyComplaint: get() and update() of the complaint (record, its timeline, and a duplicate note ' +
      "on the original's timeline), recentByCustomer() on the customer index.",
    grants: [{ actions: ['GetItem', 'PutItem'], items: ['complaint'] }],
    indexes: [byCustomer.name],
  },
  assignment: {
    why: "assignComplaint: get() and update() of the complaint, agentLoads() (BatchGetItem AGENT#), the chosen agent's place (UpdateItem ADD within capacity) in a transaction with the record, a previous owner's released (UpdateItem DELETE) after it.",
    grants: [
      { actions: ['GetItem', 'PutItem'], items: ['complaint'] },
      { actions: ['BatchGetItem', 'UpdateItem'], items: ['agentLoad'] },
    ],
  },
  slaTimer: {
    why: 'handleSlaTimer (and the survey decisions it may apply): get() and update() of the complaint.',
    grants: [{ actions: ['GetItem', 'PutItem'], items: ['complaint'] }],
  },
  slaSweep: {
    why:
      'sweepDueDeadlines: dueForSweep() on the department index (due entries of each queue, the ' +
      'received ones), then get()/update() of each due complaint; measureBacklog: openBacklog() on the ' +
      'department index.',
    grants: [{ actions: ['GetItem', 'PutItem'], items: ['complaint'] }],
    indexes: [byDepartment.name],
  },
  survey: {
    why: 'handleSurveyTimer: get() and update() of the complaint.',
    grants: [{ actions: ['GetItem', 'PutItem'], items: ['complaint'] }],
  },
  agentApi: {
    why:
      'Queues (department and assignee indexes), look-up by number (GetItem NUM#, then C#), detail (get, timeline Query on C#, recentByCustomer on ' +
      'the customer index, agentLoads BatchGetItem), actions (update: Put C#, UpdateItem ADD/DELETE on agent load sets); ' +
      'hotline submissions (POST /agent/complaints: the intake transaction, the directory tier); ' +
      'PUT /admin/customers/{id} (conditional PutItem CUSTDIR#).',
    grants: [
      { actions: ['GetItem', 'Query', 'PutItem'], items: ['complaint'] },
      { actions: ['BatchGetItem', 'UpdateItem'], items: ['agentLoad'] },
      { actions: ['PutItem'], items: ['idempotency', 'number', 'tracking', 'customerDirectory'] },
      { actions: ['GetItem'], items: ['idempotency', 'customerDirectory', 'number'] },
    ],
    indexes: [byDepartment.name, byAssignee.name, byCustomer.name],
  },
  customerApi: {
    why:
      'getByTrackingTokenHash (GetItem TRACK#, then C#), timeline (Query C#), replies and survey answers ' +
      "(update: Put C#; a reopening adds one to the assignee's counter).",
    grants: [
      { actions: ['GetItem'], items: ['tracking', 'complaint'] },
      { actions: ['Query', 'PutItem'], items: ['complaint'] },
      { actions: ['UpdateItem'], items: ['agentLoad'] },
    ],
  },
  reportAggregator: {
    why:
      'recordLifecycleEvent: getFacts (GetItem FACTS#), saveFacts (Put FACTS# + UpdateItem ADD on AGG# ' +
      'buckets in one transaction), noteFirstDay (UpdateItem REPORTING). The only writer of AGG#. ' +
      'verifyLifecycleEvent reads the complaint (GetItem C#) before trusting an event.',
    grants: [
      { actions: ['GetItem', 'PutItem'], items: ['facts'] },
      { actions: ['GetItem'], items: ['complaint'] },
      { actions: ['UpdateItem'], items: ['aggregate', 'reportingMeta'] },
    ],
  },
  reportGenerator: {
    why:
      'generateReport: firstDay (GetItem REPORTING), getBuckets (BatchGetItem AGG#), putReport (PutItem ' +
      'REPORT#). Reads the aggregates, never writes them.',
    grants: [
      { actions: ['GetItem'], items: ['reportingMeta'] },
      { actions: ['BatchGetItem'], items: ['aggregate'] },
      { actions: ['PutItem'], items: ['report'] },
    ],
  },
  reportsApi: {
    why: 'getReport (GetItem REPORT#), else generateReport on demand once the period is over (as the generator).',
    grants: [
      { actions: ['GetItem'], items: ['reportingMeta', 'report'] },
      { actions: ['BatchGetItem'], items: ['aggregate'] },
      { actions: ['PutItem'], items: ['report'] },
    ],
  },
  privacyApi: {
    why:
      'POST /privacy/erasures: startErasure puts the ERASEREQ# claim and the ERASURE# record in one ' +
      'transaction (a repeat reads the claim); GET reads the ERASURE# record.',
    grants: [{ actions: ['GetItem', 'PutItem'], items: ['erasure', 'erasureRequest'] }],
  },
  privacyWorker: {
    why:
      "eraseCustomer: the customer's complaints on the customer index and retention entries on gsi4, each " +
      'complaint read, its timeline queried and rewritten redacted (Put C#), its IDEMP# claim scrubbed ' +
      '(Get + Put), its TRACK# pointer and the CUSTDIR# entry deleted, progress counted on ERASURE# ' +
      '(UpdateItem ADD in the same transactions).',
    grants: [
      { actions: ['GetItem', 'Query', 'PutItem'], items: ['complaint'] },
      { actions: ['GetItem', 'PutItem'], items: ['idempotency'] },
      { actions: ['DeleteItem'], items: ['tracking', 'customerDirectory'] },
      { actions: ['GetItem', 'UpdateItem'], items: ['erasure'] },
    ],
    indexes: [byCustomer.name, retention.name],
  },
  privacyRetention: {
    why:
      'The daily retention run starts one erasure (as the API does: ERASEREQ# claim + ERASURE# record) whose ' +
      'scope the worker resolves.',
    grants: [{ actions: ['GetItem', 'PutItem'], items: ['erasure', 'erasureRequest'] }],
  },
} as const satisfies Record<string, TableAccess>;

export type TableUser = keyof typeof TABLE_ACCESS;

/** The `dynamodb:LeadingKeys` patterns of some item kinds. */
export const leadingKeysOf = (items: readonly ItemKind[]): string[] => items.map((item) => ITEM_KEYS[item]);
