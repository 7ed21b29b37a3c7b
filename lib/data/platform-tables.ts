import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { TableAction } from '../../lambda/contracts/permissions';
import { TableName, TableNameSetting, TABLES, TableSchema } from '../../lambda/contracts/tables';

export interface PlatformTablesProps {
  /** Customer-managed key that encrypts every table (the data stack's key). */
  readonly encryptionKey: kms.IKey;
}

/**
 * The platform's DynamoDB tables, one per entry of `TABLES` in `lambda/contracts/tables.ts`, so
 * the deployed tables, local mode's tables and the handlers share one schema. On-demand, with
 * point-in-time recovery, deletion protection and the platform key; retained on stack deletion.
 */
export class PlatformTables extends Construct {
  private readonly tables: Record<TableName, dynamodb.TableV2>;
  private readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: PlatformTablesProps) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    const entries = Object.entries(TABLES) as [TableName, TableSchema][];
    this.tables = Object.fromEntries(
      entries.map(([name, schema]) => [name, this.createTable(name, schema)]),
    ) as Record<TableName, dynamodb.TableV2>;
  }

  /** Each table's name, as the setting that carries it to handlers (`TABLE_NAMES`). */
  get nameSettings(): { [T in TableName as TableNameSetting<T>]: string } {
    return Object.fromEntries(
      (Object.keys(TABLES) as TableName[]).map((name) => [`${name}Table`, this.tables[name].tableName]),
    ) as { [T in TableName as TableNameSetting<T>]: string };
  }

  /** The deployed table for an entry of `TABLES`. */
  table(name: TableName): dynamodb.TableV2 {
    return this.tables[name];
  }

  /**
   * Grants actions on one table and nothing else: not its indexes, not scans. DynamoDB decrypts
   * the table key with the caller's credentials, so the grantee may also use kms:Decrypt on the
   * platform key, but only through DynamoDB.
   */
  grant(grantee: iam.IGrantable, name: TableName, actions: readonly TableAction[]): iam.Grant {
    const items =
      actions.length > 0
        ? iam.Grant.addToPrincipal({
            grantee,
            actions: [...actions],
            resourceArns: [this.tables[name].tableArn],
          })
        : undefined;
    const key = iam.Grant.addToPrincipal({
      grantee,
      actions: ['kms:Decrypt'],
      resourceArns: [this.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(this).region}.amazonaws.com` } },
    });
    return items ? items.combine(key) : key;
  }

  /** Grants dynamodb:Query on the named indexes of one table, and the key through DynamoDB. */
  grantIndexQuery(grantee: iam.IGrantable, name: TableName, indexNames: readonly string[]): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:Query'],
      resourceArns: indexNames.map((index) => `${this.tables[name].tableArn}/index/${index}`),
    }).combine(this.grant(grantee, name, []));
  }

  private createTable(name: TableName, schema: TableSchema): dynamodb.TableV2 {
    const key = (attribute: string) => ({ name: attribute, type: dynamodb.AttributeType.STRING });
    const id = name.charAt(0).toUpperCase() + name.slice(1);
    return new dynamodb.TableV2(this, id, {
      partitionKey: key(schema.partitionKey),
      sortKey: schema.sortKey ? key(schema.sortKey) : undefined,
      globalSecondaryIndexes: schema.indexes?.map((index) => ({
        indexName: index.name,
        partitionKey: key(index.partitionKey),
        sortKey: key(index.sortKey),
        projectionType: dynamodb.ProjectionType.ALL,
      })),
      // Requests follow researchers' bursts; on-demand costs nothing while idle.
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: schema.timeToLive,
      encryption: dynamodb.TableEncryptionV2.customerManagedKey(this.encryptionKey),
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
