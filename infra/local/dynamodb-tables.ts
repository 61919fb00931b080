/**
 * Tables on DynamoDB Local: the single table of `shared/storage/table-schema.ts` (integration tests)
 * and the tables a synthesized template declares (the local runtime).
 *
 * With a persisted DynamoDB Local (`-dbPath`, the runtime's state directory) a table may already
 * exist: it is kept when its key schema and indexes match the declaration, and refused with a message
 * naming the table otherwise (the state was made by another version of the app; start fresh).
 */
import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  type TableDescription,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { INDEXES, TABLE_KEYS, TTL_ATTRIBUTE } from '../../shared/storage/table-schema';

/**
 * Creates the single table as declared in `shared/storage/table-schema.ts`
 * (keys, GSIs with INCLUDE projections, TTL, on-demand billing) and waits
 * until the table and every index are ACTIVE.
 */
export async function createTableFromSchema(client: DynamoDBClient, tableName: string): Promise<void> {
  const indexes = Object.values(INDEXES);
  const keyAttributes = new Set<string>([TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey]);
  for (const index of indexes) {
    keyAttributes.add(index.partitionKey);
    keyAttributes.add(index.sortKey);
  }
  const attributeDefinitions: AttributeDefinition[] = [...keyAttributes].map((name) => ({
    AttributeName: name,
    AttributeType: 'S',
  }));
  const globalSecondaryIndexes: GlobalSecondaryIndex[] = indexes.map((index) => ({
    IndexName: index.name,
    KeySchema: [
      { AttributeName: index.partitionKey, KeyType: 'HASH' },
      { AttributeName: index.sortKey, KeyType: 'RANGE' },
    ],
    Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.include] },
  }));

  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: attributeDefinitions,
      KeySchema: [
        { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: globalSecondaryIndexes,
    }),
  );
  await waitUntilActive(client, tableName);

  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      }),
    );
  } catch (error) {
    if (!isUnsupportedOperation(error)) throw error;
  }
}

/** The parts of an `AWS::DynamoDB::Table`'s properties that DynamoDB Local can reproduce. */
export interface TemplateTableProperties {
  AttributeDefinitions: AttributeDefinition[];
  KeySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
  GlobalSecondaryIndexes?: GlobalSecondaryIndex[];
  LocalSecondaryIndexes?: { IndexName: string; KeySchema: unknown[]; Projection: unknown }[];
  TimeToLiveSpecification?: { AttributeName: string; Enabled: boolean };
  StreamSpecification?: { StreamViewType: string };
}

/** Thrown when a persisted table does not match the template (another version of the app made it). */
export class TableMismatchError extends Error {
  constructor(
    readonly tableName: string,
    detail: string,
  ) {
    super(
      `Table ${tableName} in the persisted state does not match the template (${detail}); ` +
        'start with fresh state (npm start -- --fresh) to discard it',
    );
    this.name = 'TableMismatchError';
  }
}

/**
 * Creates a table as an `AWS::DynamoDB::Table` resource of a synthesized template declares it (keys,
 * GSIs and LSIs with their projections, TTL, streams), on demand, and waits until it is ACTIVE.
 * Properties DynamoDB Local has no API for (PITR, SSE, tags, deletion protection) are left out.
 *
 * A table that already exists (persisted state) is kept when its key schema, attribute types of its
 * keys and secondary indexes match; otherwise {@link TableMismatchError}. Resolves to whether the
 * table was created (`true`) or found (`false`).
 */
export async function createTableFromTemplate(
  client: DynamoDBClient,
  tableName: string,
  properties: TemplateTableProperties,
): Promise<boolean> {
  const existing = await describeTable(client, tableName);
  if (existing !== undefined) {
    checkMatches(tableName, existing, properties);
    await waitUntilActive(client, tableName);
    return false;
  }
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: properties.AttributeDefinitions,
      KeySchema: properties.KeySchema,
      ...(properties.GlobalSecondaryIndexes?.length
        ? {
            GlobalSecondaryIndexes: properties.GlobalSecondaryIndexes.map((g) => ({
              IndexName: g.IndexName,
              KeySchema: g.KeySchema,
              Projection: g.Projection,
            })),
          }
        : {}),
      ...(properties.LocalSecondaryIndexes?.length
        ? { LocalSecondaryIndexes: properties.LocalSecondaryIndexes as never }
        : {}),
      ...(properties.StreamSpecification
        ? {
            StreamSpecification: {
              StreamEnabled: true,
              StreamViewType: properties.StreamSpecification.StreamViewType as never,
            },
          }
        : {}),
    }),
  );
  await waitUntilActive(client, tableName);
  const ttl = properties.TimeToLiveSpecification;
  if (ttl?.Enabled) {
    try {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: tableName,
          TimeToLiveSpecification: { AttributeName: ttl.AttributeName, Enabled: true },
        }),
      );
    } catch (error) {
      if (!isUnsupportedOperation(error)) throw error;
    }
  }
  return true;
}

async function describeTable(
  client: DynamoDBClient,
  tableName: string,
): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if (error instanceof Error && error.name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

type KeyElement = { AttributeName?: string; KeyType?: string };
const keyText = (schema: readonly KeyElement[] | undefined) =>
  (schema ?? []).map((k) => `${k.AttributeName} ${k.KeyType}`).join(', ');

/** Compares what queries depend on: table keys with their types, and each index's keys. */
function checkMatches(tableName: string, table: TableDescription, declared: TemplateTableProperties): void {
  const want = keyText(declared.KeySchema);
  const have = keyText(table.KeySchema);
  if (want !== have) throw new TableMismatchError(tableName, `key schema is [${have}], expected [${want}]`);
  const typeOf = (defs: readonly AttributeDefinition[] | undefined, name: string | undefined) =>
    defs?.find((d) => d.AttributeName === name)?.AttributeType;
  for (const key of declared.KeySchema) {
    const wantType = typeOf(declared.AttributeDefinitions, key.AttributeName);
    const haveType = typeOf(table.AttributeDefinitions, key.AttributeName);
    if (wantType !== haveType) {
      throw new TableMismatchError(
        tableName,
        `key ${key.AttributeName} has type ${haveType}, expected ${wantType}`,
      );
    }
  }
  const indexes = (list: readonly { IndexName?: string; KeySchema?: unknown }[] | undefined) =>
    new Map((list ?? []).map((i) => [String(i.IndexName), keyText(i.KeySchema as KeyElement[])]));
  const wantIndexes = indexes([
    ...(declared.GlobalSecondaryIndexes ?? []),
    ...(declared.LocalSecondaryIndexes ?? []),
  ]);
  const haveIndexes = indexes([
    ...(table.GlobalSecondaryIndexes ?? []),
    ...(table.LocalSecondaryIndexes ?? []),
  ]);
  for (const [name, keys] of wantIndexes) {
    const found = haveIndexes.get(name);
    if (found === undefined) throw new TableMismatchError(tableName, `index ${name} is missing`);
    if (found !== keys)
      throw new TableMismatchError(tableName, `index ${name} has keys [${found}], expected [${keys}]`);
  }
  for (const name of haveIndexes.keys()) {
    if (!wantIndexes.has(name))
      throw new TableMismatchError(tableName, `index ${name} is not in the template`);
  }
}

async function waitUntilActive(client: DynamoDBClient, tableName: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { Table: table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesActive = (table?.GlobalSecondaryIndexes ?? []).every((gsi) => gsi.IndexStatus === 'ACTIVE');
    if (table?.TableStatus === 'ACTIVE' && indexesActive) return;
    if (Date.now() > deadline) {
      throw new Error(
        `Table ${tableName} not ACTIVE after ${timeoutMs / 1000} s (status ${table?.TableStatus})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The error an emulator gives for an API it does not implement (and nothing else). */
function isUnsupportedOperation(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'UnknownOperationException') return true;
  return /not (yet )?(supported|implemented)|unsupported operation/i.test(error.message);
}

/** The partition key of a table ('') and of each of its secondary indexes (by index name). */
export function tablePartitionKeys(p: TemplateTableProperties): Map<string, string> {
  const hash = (schema: unknown) =>
    (Array.isArray(schema) ? (schema as { AttributeName: string; KeyType: string }[]) : []).find(
      (k) => k.KeyType === 'HASH',
    )?.AttributeName;
  const keys = new Map<string, string>();
  const table = hash(p.KeySchema);
  if (table !== undefined) keys.set('', table);
  for (const index of [...(p.GlobalSecondaryIndexes ?? []), ...(p.LocalSecondaryIndexes ?? [])]) {
    const key = hash(index.KeySchema);
    if (key !== undefined && index.IndexName !== undefined) keys.set(index.IndexName, key);
  }
  return keys;
}
