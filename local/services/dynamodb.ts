import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TABLES, TableName } from '../../lambda/contracts/tables';
import { close, listen } from '../port-check';
import { guardServer, RequestGuard } from './request-guard';
import { RunningService } from './running-service';
import { enforceDynamoDbLimits } from './service-limits';

export interface EmbeddedDynamoDbOptions {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  /** Each table's name in this DynamoDB. */
  readonly tableName: (table: TableName) => string;
  /** Region and credentials that clients name; dynalite ignores them. */
  readonly client: {
    readonly region: string;
    readonly credentials: { accessKeyId: string; secretAccessKey: string };
  };
  /** Checks each request before dynalite answers it (local IAM). */
  readonly guard?: RequestGuard;
}

/**
 * The DynamoDB-compatible server of local mode, tables kept in LevelDB under `<dataDir>/dynamodb`,
 * with the platform's tables created from the same schemas the data stack uses.
 */
export async function startEmbeddedDynamoDb(options: EmbeddedDynamoDbOptions): Promise<RunningService> {
  const dbPath = path.join(options.dataDir, 'dynamodb');
  fs.mkdirSync(dbPath, { recursive: true });
  // Tables become ACTIVE at once instead of after dynalite's simulated delay.
  const server = dynalite({ path: dbPath, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  enforceDynamoDbLimits(server);
  guardServer(server, options.guard);
  await listen(server, options.host, options.port);
  const endpoint = `http://${options.host}:${options.port}`;
  // dynalite's close() also closes its LevelDB, releasing the folder's lock.
  const stop = () => close(server);
  const client = new DynamoDBClient({ ...options.client, endpoint });
  try {
    await ensureTables(client, options.tableName);
  } catch (err) {
    await stop();
    throw err;
  } finally {
    client.destroy();
  }
  return { env: { AWS_ENDPOINT_URL_DYNAMODB: endpoint }, stop };
}

async function ensureTables(
  dynamodb: DynamoDBClient,
  tableName: (table: TableName) => string,
): Promise<void> {
  for (const [table, schema] of Object.entries(TABLES) as [TableName, (typeof TABLES)[TableName]][]) {
    const attributes = new Set<string>([schema.partitionKey]);
    const keySchema: CreateTableCommandInput['KeySchema'] = [
      { AttributeName: schema.partitionKey, KeyType: 'HASH' },
    ];
    if ('sortKey' in schema) {
      attributes.add(schema.sortKey as string);
      keySchema.push({ AttributeName: schema.sortKey as string, KeyType: 'RANGE' });
    }
    const indexes = 'indexes' in schema ? schema.indexes : [];
    for (const index of indexes) {
      attributes.add(index.partitionKey);
      attributes.add(index.sortKey);
    }
    try {
      await dynamodb.send(
        new CreateTableCommand({
          TableName: tableName(table),
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [...attributes].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
          KeySchema: keySchema,
          ...(indexes.length > 0 && {
            GlobalSecondaryIndexes: indexes.map((index) => ({
              IndexName: index.name,
              KeySchema: [
                { AttributeName: index.partitionKey, KeyType: 'HASH' },
                { AttributeName: index.sortKey, KeyType: 'RANGE' },
              ],
              Projection: { ProjectionType: 'ALL' },
            })),
          }),
        }),
      );
    } catch (err) {
      // Kept from an earlier start: the data folder survives restarts.
      if (!(err instanceof ResourceInUseException)) throw err;
    }
  }
  // dynalite turns a new table ACTIVE on a timer, and answers "not found" until then: on a busy
  // machine a first request could come first, so local mode starts only once every table is ACTIVE.
  for (const table of Object.keys(TABLES) as TableName[]) {
    for (let attempt = 0; ; attempt++) {
      const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: tableName(table) }));
      const indexes = Table?.GlobalSecondaryIndexes ?? [];
      if (Table?.TableStatus === 'ACTIVE' && indexes.every((index) => index.IndexStatus === 'ACTIVE')) break;
      if (attempt === 200) throw new Error(`local DynamoDB: table ${tableName(table)} did not become ACTIVE`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
