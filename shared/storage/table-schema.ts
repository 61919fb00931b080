/**
 * Physical layout of the single table, shared by the CDK table construct, the
 * DynamoDB adapter and the local test setup. Access patterns: docs/access-patterns.md.
 */
export const TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk' } as const;

/** Time-to-live attribute (epoch seconds): idempotency records and tracking tokens expire. */
export const TTL_ATTRIBUTE = 'expiresAt';

export interface IndexDefinition {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey: string;
  /** Non-key attributes projected into the index (INCLUDE projection keeps index writes small). */
  readonly include: readonly string[];
}

/** Attributes a queue listing needs without reading the full item. */
const LISTING_ATTRIBUTES = [
  'number',
  'status',
  'category',
  'severity',
  'priority',
  'channel',
  'leadDepartment',
  'assignee',
  'receivedAt',
  'nextDueAt',
  'version',
] as const;

export const INDEXES = {
  /** Department queue: `DEPT#<dept>#<status>` ordered by `<nextDueAt>#<id>`. */
  byDepartment: { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk', include: LISTING_ATTRIBUTES },
  /** Assignee queue: `AGENT#<agent>` ordered by `<status>#<nextDueAt>#<id>`. */
  byAssignee: { name: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk', include: LISTING_ATTRIBUTES },
  /** Complaints by customer: `CUST#<customerKey>` ordered by `<receivedAt>#<id>`. */
  byCustomer: {
    name: 'gsi3',
    partitionKey: 'gsi3pk',
    sortKey: 'gsi3sk',
    include: ['number', 'phase', 'category', 'receivedAt', 'fingerprint'],
  },
  /**
   * Sparse retention index: `ERASE#<shard>` ordered by `<last change>#<id>`, only for closed or
   * rejected complaints that still hold personal data (the SLA sweep reads the department queues).
   */
  retention: {
    name: 'gsi4',
    partitionKey: 'gsi4pk',
    sortKey: 'gsi4sk',
    include: ['status'],
  },
} as const satisfies Record<string, IndexDefinition>;
