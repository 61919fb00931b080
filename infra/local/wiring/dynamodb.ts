/**
 * The template's DynamoDB tables on DynamoDB Local, started and supervised here (or on an endpoint
 * given, which is then not supervised).
 *
 * With a state directory DynamoDB Local keeps its data on disk (`<stateDir>/dynamodb`) and existing
 * tables are kept when they match the template. The Java process is supervised (`supervisor.ts`):
 * when it dies the runtime says so, starts it again on the same port from the same files (in memory:
 * an empty one, whose tables are created again — the log says the data was lost), and when it cannot,
 * reports a fatal reason. An outage on demand freezes it (SIGSTOP) and resumes it (SIGCONT).
 */
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  createTableFromTemplate,
  type DynamoDbLocalInstance,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  startDynamoDbLocal,
  type TemplateTableProperties,
  tablePartitionKeys,
} from '../dynamodb-local';
import { type DependencyStatus, type RestartBudget, type Supervisor, supervise } from '../supervisor';
import { LOCAL_ACCOUNT_ID, resourcesOfType, type StackTemplate, type TemplateResolver } from '../template';

export interface LocalDynamoDb {
  endpoint: string;
  client: DynamoDBClient;
  /** Logical id → table name. */
  tables: Record<string, string>;
  /** Table name → partition key of the table ('') and of each index, for `dynamodb:LeadingKeys`. */
  partitionKeys: Map<string, Map<string, string>>;
  /** Tables that already existed (resumed from the state directory). */
  existingTables: number;
  /** Undefined when the endpoint was given (not started, not supervised). */
  status(): DependencyStatus | undefined;
  freeze(): boolean;
  thaw(): void;
  close(): Promise<void>;
}

export async function startLocalDynamoDb(options: {
  template: StackTemplate;
  resolver: TemplateResolver;
  endpoint?: string;
  port?: number;
  tableNameSuffix?: string;
  /** `<stateDir>/dynamodb` holds the data; absent: in memory. */
  stateDir?: string;
  /** The live list of child process ids (updated on restart). */
  childPids: number[];
  restartBudget?: RestartBudget;
  log: (message: string) => void;
  onFatal: (reason: string) => void;
}): Promise<LocalDynamoDb> {
  const { template, resolver, log } = options;
  const dbPath = options.stateDir === undefined ? undefined : join(options.stateDir, 'dynamodb');
  let supervisor: Supervisor<DynamoDbLocalInstance> | undefined;
  let endpoint = options.endpoint;
  if (endpoint === undefined) {
    const instance = await startDynamoDbLocal({
      port: options.port ?? 0,
      ...(dbPath !== undefined ? { dbPath } : {}),
    });
    endpoint = instance.endpoint;
    options.childPids.push(instance.pid);
    let pid = instance.pid;
    supervisor = supervise({
      name: 'DynamoDB Local',
      initial: instance,
      restart: () => startDynamoDbLocal({ port: instance.port, ...(dbPath !== undefined ? { dbPath } : {}) }),
      afterRestart: async (restarted) => {
        const index = options.childPids.indexOf(pid);
        if (index >= 0) options.childPids[index] = restarted.pid;
        else options.childPids.push(restarted.pid);
        pid = restarted.pid;
        const created = await createTables();
        if (dbPath === undefined)
          log(
            `local runtime: DynamoDB Local ran in memory: its data was lost (${created} table(s) created again, empty)`,
          );
      },
      recovery:
        dbPath === undefined
          ? `in memory: its data is lost, the tables will be created again`
          : `on port ${instance.port} from its files in ${dbPath}`,
      ...(options.restartBudget ? { budget: options.restartBudget } : {}),
      log,
      onFatal: options.onFatal,
    });
  }
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const tables: Record<string, string> = {};
  const partitionKeys = new Map<string, Map<string, string>>();

  /** Creates the template's tables (keeping matching ones); resolves to how many were created. */
  const createTables = async (): Promise<number> => {
    let created = 0;
    for (const [id, resource] of resourcesOfType(template, 'AWS::DynamoDB::Table')) {
      const suffix = options.tableNameSuffix ?? '';
      const name = `${resolver.physicalName(id, 255 - suffix.length)}${suffix}`;
      const properties = resolver.resolve(resource.Properties) as TemplateTableProperties;
      if (await createTableFromTemplate(client, name, properties)) created += 1;
      resolver.set(id, name, {
        Arn: `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:table/${name}`,
        StreamArn: `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:table/${name}/stream/local`,
      });
      tables[id] = name;
      partitionKeys.set(name, tablePartitionKeys(properties));
    }
    return created;
  };

  try {
    const created = await createTables();
    return {
      endpoint,
      client,
      tables,
      partitionKeys,
      existingTables: Object.keys(tables).length - created,
      status: () => supervisor?.status(),
      freeze: () => {
        if (supervisor === undefined) return false;
        supervisor.freeze();
        return true;
      },
      thaw: () => supervisor?.thaw(),
      async close() {
        client.destroy();
        await supervisor?.stop();
      },
    };
  } catch (error) {
    client.destroy();
    await supervisor?.stop();
    throw error;
  }
}
