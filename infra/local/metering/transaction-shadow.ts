/**
 * Transactional writes as AWS bills them. DynamoDB Local's `ConsumedCapacity` of a plain write follows
 * AWS's rules (the item's size, the larger of before and after; each index entry put, deleted or
 * rewritten), but its figure for a `TransactWriteItems` does not: a 2.5 KB item in a transaction
 * reports 12 units where AWS bills 2 × 3 = 6, an index entry 4 where AWS bills 2 (checked on
 * DynamoDB Local 2.x). So the meter replays each committed transaction, operation by operation, as
 * plain writes on a shadow copy of the table (same keys and indexes), and bills twice what those
 * writes consume:
 *
 * 1. before the transaction is forwarded, the items it names are copied from the table to the shadow
 *    (their state before: one batch read, one batch write);
 * 2. once it has committed, each of its Put, Update and Delete runs on the shadow as a plain write
 *    (conditions dropped: they held on the table), and their units are added up.
 *
 * Concurrent transactions on one item can copy a slightly newer or older state: the sizes, hence the
 * units, differ by little. A replay that fails is reported, and the meter falls back to Local's figure.
 */
import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
  ResourceInUseException,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../dynamodb-local';

type Item = Record<string, AttributeValue>;
// biome-ignore lint/suspicious/noExplicitAny: the wire form of a transaction's operations, read field by field.
type Operation = Record<string, any>;

/** The shadow table of `table`. */
export const shadowTableName = (table: string) => `${table}.cost-shadow`;

/** Parses a `TransactWriteItems` body into its operations (kind and input). */
export function transactionOperations(body: string): Array<{ kind: string; input: Operation }> {
  const parsed = JSON.parse(body) as { TransactItems?: Array<Record<string, Operation>> };
  return (parsed.TransactItems ?? []).flatMap((entry) =>
    Object.entries(entry).map(([kind, input]) => ({ kind, input })),
  );
}

/**
 * The operation as a plain write on the shadow: no condition, and only the placeholders its
 * remaining expression uses (DynamoDB refuses unused ones).
 */
export function plainWrite(input: Operation): Operation {
  const {
    ConditionExpression: _condition,
    ReturnValuesOnConditionCheckFailure: _returnValues,
    ExpressionAttributeNames,
    ExpressionAttributeValues,
    ...rest
  } = input;
  const expression = String(rest.UpdateExpression ?? '');
  const used = new Set(expression.match(/[#:][A-Za-z0-9_]+/g) ?? []);
  const names = Object.fromEntries(
    Object.entries(ExpressionAttributeNames ?? {}).filter(([k]) => used.has(k)),
  );
  const values = Object.fromEntries(
    Object.entries(ExpressionAttributeValues ?? {}).filter(([k]) => used.has(k)),
  );
  return {
    ...rest,
    TableName: shadowTableName(String(input.TableName)),
    ...(Object.keys(names).length > 0 && { ExpressionAttributeNames: names }),
    ...(Object.keys(values).length > 0 && { ExpressionAttributeValues: values }),
  };
}

/** One item's identity in a table: its key attributes' values. */
const identity = (table: string, item: Item, keyNames: readonly string[]): string =>
  `${table}|${[...keyNames]
    .sort()
    .map((name) => JSON.stringify(item[name]))
    .join('|')}`;

export function createTransactionShadow(client: DynamoDBClient) {
  const keySchemas = new Map<string, Promise<string[]>>();

  /** The shadow of `table` (created once) and the table's key attribute names. */
  const keyAttributes = (table: string): Promise<string[]> => {
    let known = keySchemas.get(table);
    if (known === undefined) {
      known = (async () => {
        const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
        if (Table === undefined) throw new Error(`No table ${table}`);
        try {
          await client.send(
            new CreateTableCommand({
              TableName: shadowTableName(table),
              BillingMode: 'PAY_PER_REQUEST',
              AttributeDefinitions: Table.AttributeDefinitions,
              KeySchema: Table.KeySchema,
              ...(Table.GlobalSecondaryIndexes?.length && {
                GlobalSecondaryIndexes: Table.GlobalSecondaryIndexes.map((index) => ({
                  IndexName: index.IndexName,
                  KeySchema: index.KeySchema,
                  Projection: index.Projection,
                })),
              }),
            }),
          );
        } catch (error) {
          if (!(error instanceof ResourceInUseException)) throw error;
        }
        return (Table.KeySchema ?? []).map((k) => String(k.AttributeName));
      })();
      keySchemas.set(table, known);
    }
    return known;
  };

  const keyOf = async (kind: string, input: Operation): Promise<Item> => {
    if (kind !== 'Put') return input.Key as Item;
    const names = await keyAttributes(String(input.TableName));
    return Object.fromEntries(names.map((name) => [name, (input.Item as Item)[name] as AttributeValue]));
  };

  return {
    /** Copies the items a transaction names from their table to the shadow (their state before). */
    async prepare(body: string): Promise<void> {
      // One BatchGetItem for the state before, one BatchWriteItem to the shadow (a transaction has at
      // most 100 items, a batch write 25): the transaction waits for this, so it stays short.
      const operations = transactionOperations(body);
      const keys = await Promise.all(
        operations.map(async ({ kind, input }) => {
          const table = String(input.TableName);
          await keyAttributes(table);
          return { table, Key: await keyOf(kind, input) };
        }),
      );
      const byTable = new Map<string, Item[]>();
      for (const { table, Key } of keys) byTable.set(table, [...(byTable.get(table) ?? []), Key]);
      const found = new Map<string, Item>();
      for (const [table, tableKeys] of byTable) {
        for (let i = 0; i < tableKeys.length; i += 100) {
          const { Responses } = await client.send(
            new BatchGetItemCommand({
              RequestItems: { [table]: { Keys: tableKeys.slice(i, i + 100), ConsistentRead: true } },
            }),
          );
          for (const item of Responses?.[table] ?? [])
            found.set(identity(table, item, Object.keys(tableKeys[0] ?? {})), item);
        }
      }
      const writes = keys.map(({ table, Key }) => {
        const before = found.get(identity(table, Key, Object.keys(Key)));
        return {
          table: shadowTableName(table),
          request: before === undefined ? { DeleteRequest: { Key } } : { PutRequest: { Item: before } },
        };
      });
      for (let i = 0; i < writes.length; i += 25) {
        const chunk = writes.slice(i, i + 25);
        const RequestItems: Record<string, Array<(typeof chunk)[number]['request']>> = {};
        for (const { table, request } of chunk)
          RequestItems[table] = [...(RequestItems[table] ?? []), request];
        await client.send(new BatchWriteItemCommand({ RequestItems: RequestItems as never }));
      }
    },

    /** Replays a committed transaction on the shadow; what AWS bills for it (twice the plain writes' units). */
    async replay(body: string): Promise<number> {
      const units = await Promise.all(
        transactionOperations(body).map(async ({ kind, input }) => {
          const write = { ...plainWrite(input), ReturnConsumedCapacity: 'INDEXES' as const };
          const answer =
            kind === 'Put'
              ? await client.send(new PutItemCommand(write as never))
              : kind === 'Update'
                ? await client.send(new UpdateItemCommand(write as never))
                : kind === 'Delete'
                  ? await client.send(new DeleteItemCommand(write as never))
                  : undefined; // ConditionCheck: no write
          return Number(answer?.ConsumedCapacity?.CapacityUnits ?? 0);
        }),
      );
      return 2 * units.reduce((sum, n) => sum + n, 0);
    },
  };
}

export type TransactionShadow = ReturnType<typeof createTransactionShadow>;

/** Gives `meter` a shadow on the DynamoDB at `endpoint`; returns what closes its client. */
export function shadowTransactions(
  meter: { useTransactionShadow(shadow: TransactionShadow): void },
  endpoint: string,
): () => Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  meter.useTransactionShadow(createTransactionShadow(client));
  return async () => client.destroy();
}
