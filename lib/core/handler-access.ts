import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { TableName } from '../../lambda/contracts/tables';
import { ImagingDistribution } from '../delivery/imaging-distribution';
import { ApiTables, TableAction } from '../data/api-tables';
import { ConversionQueue } from '../images/conversion-queue';
import { JobAccess } from '../jobs/job-access';
import { OperationPermissions } from './operation-permissions';

export interface HandlerAccessProps {
  readonly tables: ApiTables;
  /** The imaging bucket that uploads go into. */
  readonly imagingBucket: s3.IBucket;
  /** The bucket's SSE-KMS key. */
  readonly objectKey: kms.IKey;
  /** Upload limits as handler variables (`uploadHandlerEnvironment(config)`). */
  readonly uploadEnvironment: Readonly<Record<string, string>>;
  /** Images waiting for the converter. */
  readonly conversionQueue: ConversionQueue;
  /** Serves converted images through signed URLs. */
  readonly imagingDistribution: ImagingDistribution;
  /** The Batch resources that run jobs. */
  readonly jobs: JobAccess;
}

/**
 * Turns an entry of OPERATION_PERMISSIONS into one handler's IAM statements and environment:
 * narrow statements on named tables, object prefixes and the key, never `*Data` grants.
 */
export class HandlerAccess {
  constructor(private readonly props: HandlerAccessProps) {}

  /** Grants `fn` exactly `permissions` and sets the variables its handler reads. */
  apply(fn: lambda.Function, permissions: OperationPermissions): void {
    const { tables, imagingBucket, objectKey, uploadEnvironment, conversionQueue, imagingDistribution } =
      this.props;
    const tableActions = Object.entries(permissions.tables ?? {}) as [TableName, readonly TableAction[]][];
    for (const [name, actions] of tableActions) {
      tables.grant(fn, name, actions);
      tables.addNameVariable(fn, name);
    }
    const indexQueries = Object.entries(permissions.indexQueries ?? {}) as [TableName, readonly string[]][];
    for (const [name, indexes] of indexQueries) {
      tables.grantIndexQuery(fn, name, indexes);
      tables.addNameVariable(fn, name);
    }
    for (const { prefix, actions } of permissions.imagingObjects ?? []) {
      const objects = imagingBucket.arnForObjects(`${prefix}*`);
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: [...actions], resources: [objects] }));
      // The finding quotes the ARN as cdk-nag flattens it, resolved the same way here.
      Validations.of(fn.role!).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${flattenCfnReference(Stack.of(fn).resolve(objects))}]`,
        reason: `Object keys under ${prefix} are made per user and upload at run time, so no exact ARN exists beforehand; the prefix keeps the handler to them, and ${actions.join(', ')} is all it may do there.`,
      });
    }
    if (permissions.objectEncryption?.length) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: [...permissions.objectEncryption],
          resources: [objectKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(fn).region}.amazonaws.com` } },
        }),
      );
    }
    if (permissions.imagingObjects?.length || permissions.uploadSettings) {
      fn.addEnvironment('IMAGING_BUCKET', imagingBucket.bucketName);
      // Part URLs use the Transfer Acceleration endpoint, which the data stack enables on the bucket.
      fn.addEnvironment('S3_ACCELERATE', 'true');
    }
    if (permissions.uploadSettings) {
      for (const [name, value] of Object.entries(uploadEnvironment)) fn.addEnvironment(name, value);
    }
    if (permissions.queuesConversions) conversionQueue.grantSendMessages(fn);
    if (permissions.signsImageUrls) imagingDistribution.grantSignedUrls(fn);
    if (permissions.jobSettings) {
      this.props.jobs.setSettings(fn);
      fn.addEnvironment('IMAGING_BUCKET', imagingBucket.bucketName);
    }
    if (permissions.submitsJobs) this.props.jobs.grantSubmit(fn);
    if (permissions.activatesVersions) this.props.jobs.grantActivateVersions(fn);
    if (permissions.terminatesJobs) this.props.jobs.grantTerminate(fn);
    if (permissions.readsJobLogs) this.props.jobs.grantReadLogs(fn);
  }
}
