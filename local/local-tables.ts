import {
  CreateTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { TABLES, TableName } from '../lambda/contracts/tables';

/** Local table names: the schema's key with a prefix, e.g. `local-uploads`. */
export function localTableNames(): Record<TableName, string> {
  return Object.fromEntries(Object.keys(TABLES).map((table) => [table, `local-${table}`])) as Record<
    TableName,
    string
  >;
}

/** Creates the API's tables in the embedded DynamoDB from the same schemas the api stack uses. */
export async function ensureLocalTables(dynamodb: DynamoDBClient): Promise<void> {
  const names = localTableNames();
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
          TableName: names[table],
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
}
