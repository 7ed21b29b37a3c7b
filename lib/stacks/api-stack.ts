import { JOBS_PREFIX } from '../../lambda/contracts/bucket-layout';
import { CfnOutput, Duration, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ApiFirewall } from '../api/api-firewall';
import { ApiTables } from '../data/api-tables';
import { ConversionQueue } from '../images/conversion-queue';
import { ApiUserPool } from '../api/api-user-pool';
import { HandlerAccess } from '../core/handler-access';
import { jobHandlerEnvironment, uploadHandlerEnvironment } from '../core/handler-environment';
import { BackgroundHandler } from '../core/background-handler';
import { ImageConverter } from '../images/image-converter';
import { JobAccess } from '../jobs/job-access';
import { jobResourceNames } from '../jobs/job-resource-names';
import { UPLOADS_PREFIX } from '../../lambda/contracts/bucket-layout';
import { PlatformRestApi } from '../api/platform-rest-api';
import { publishedValue } from '../core/published-value';
import { PlatformConfig } from '../config/platform-config';
import { ImagingDistribution } from '../delivery/imaging-distribution';

export interface ApiStackProps extends StackProps {
  readonly config: PlatformConfig;
  /** The data stack's imaging bucket, into which uploads go. */
  readonly imagingBucket: s3.IBucket;
  /** The data stack's key: encrypts the bucket, the tables and the logs. */
  readonly platformKey: kms.IKey;
  /** Serves images; handlers that return images get signed URLs through it. */
  readonly imagingDistribution: ImagingDistribution;
}

/**
 * The job API in the home region: researchers' accounts, the REST API with one Lambda handler per
 * operation, its DynamoDB tables, the queue of images to convert and the web ACL in front of it.
 */
export class ApiStack extends Stack {
  readonly userPool: ApiUserPool;
  readonly tables: ApiTables;
  readonly conversionQueue: ConversionQueue;
  readonly restApi: PlatformRestApi;
  readonly firewall: ApiFirewall;
  readonly jobStateTracker: BackgroundHandler;
  readonly converterJobFailures: BackgroundHandler;
  readonly uploadSweeper: BackgroundHandler;
  readonly imageConverter: ImageConverter;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const { config } = props;

    // Named through the data stack's output for it (see publishedValue), so IAM statements on its
    // objects read the same in tests and in `cdk synth`.
    const imagingBucket = s3.Bucket.fromBucketAttributes(this, 'ImagingBucket', {
      bucketName: publishedValue(props.imagingBucket, props.imagingBucket.bucketName),
      encryptionKey: props.platformKey,
    });
    this.addStackDependency(Stack.of(props.imagingBucket));

    this.userPool = new ApiUserPool(this, 'Users', {
      selfSignUp: config.users.selfSignUp,
      threatProtection: config.users.threatProtection,
    });
    this.tables = new ApiTables(this, 'Tables', { encryptionKey: props.platformKey });
    this.conversionQueue = new ConversionQueue(this, 'Conversions', { encryptionKey: props.platformKey });
    const jobs = new JobAccess(this, {
      names: jobResourceNames(config),
      limitsEnvironment: jobHandlerEnvironment(config),
      criticalFindings: config.compute.criticalFindings,
    });
    const handlerAccess = new HandlerAccess({
      tables: this.tables,
      imagingBucket,
      objectKey: props.platformKey,
      uploadEnvironment: uploadHandlerEnvironment(config),
      conversionQueue: this.conversionQueue,
      imagingDistribution: props.imagingDistribution,
      jobs,
    });
    this.restApi = new PlatformRestApi(this, 'RestApi', {
      userPool: this.userPool.userPool,
      handlerAccess,
      logEncryptionKey: props.platformKey,
      logRetentionDays: config.retention.logRetentionDays,
      webOrigins: config.webOrigins,
      domain: config.domains.api,
    });
    this.firewall = new ApiFirewall(this, 'Firewall', {
      stage: this.restApi.restApi.deploymentStage,
      logEncryptionKey: props.platformKey,
      logRetentionDays: config.retention.logRetentionDays,
    });

    const backgroundFailures = new sqs.Queue(this, 'BackgroundFailures', {
      encryptionMasterKey: props.platformKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(backgroundFailures).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This is the dead-letter queue of the background handlers and their EventBridge rules; a queue behind it would only move the same failed events once more.',
    });
    const background = {
      handlerAccess,
      deadLetterQueue: backgroundFailures,
      logEncryptionKey: props.platformKey,
      logRetentionDays: config.retention.logRetentionDays,
    };
    this.jobStateTracker = new BackgroundHandler(this, 'JobStateTracker', {
      ...background,
      handlerName: 'batch-job-state-change',
      description: 'Moves jobs forward on Batch Job State Change events of the platform queues',
      trigger: {
        eventPattern: {
          source: ['aws.batch'],
          detailType: ['Batch Job State Change'],
          detail: { jobQueue: [jobs.gpuJobQueueArn, jobs.cpuJobQueueArn] },
        },
      },
      permissions: {
        // A terminal event reads the job's key, manifest and result record to judge its outputs.
        // Image outputs become images of the job's owner, queued for conversion.
        tables: {
          jobs: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
          activeJobs: ['dynamodb:UpdateItem'],
          images: ['dynamodb:PutItem'],
        },
        queuesConversions: true,
        imagingObjects: [{ prefix: JOBS_PREFIX, actions: ['s3:GetObject'] }],
        objectEncryption: ['kms:Decrypt'],
        jobSettings: true,
      },
    });
    this.converterJobFailures = new BackgroundHandler(this, 'ConverterJobFailures', {
      ...background,
      handlerName: 'fail-converter-job',
      description: 'Marks Failed the images whose converter container job failed',
      trigger: {
        eventPattern: {
          source: ['aws.batch'],
          detailType: ['Batch Job State Change'],
          detail: { jobQueue: [jobs.converterJobQueueArn], status: ['FAILED'] },
        },
      },
      permissions: { tables: { images: ['dynamodb:UpdateItem'] } },
    });
    this.uploadSweeper = new BackgroundHandler(this, 'UploadSweeper', {
      ...background,
      handlerName: 'upload-sweeper',
      description: 'Aborts uploads left Pending past the limit and returns their quota',
      trigger: { schedule: events.Schedule.rate(Duration.hours(1)) },
      timeout: Duration.minutes(10),
      permissions: {
        tables: { uploads: ['dynamodb:Scan', 'dynamodb:UpdateItem'], usage: ['dynamodb:UpdateItem'] },
        imagingObjects: [{ prefix: UPLOADS_PREFIX, actions: ['s3:AbortMultipartUpload'] }],
        uploadSettings: true,
      },
    });

    this.imageConverter = new ImageConverter(this, 'ImageConverter', {
      queue: this.conversionQueue,
      handlerAccess,
      logEncryptionKey: props.platformKey,
      logRetentionDays: config.retention.logRetentionDays,
      jobs,
      lambdaMaxSetBytes: config.conversion.lambdaMaxSetBytes,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.restApi.url });
    new CfnOutput(this, 'UserPoolId', { value: this.userPool.userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: this.userPool.appClient.userPoolClientId });
    if (config.domains.api) {
      new CfnOutput(this, 'ApiDomainTarget', {
        description: `Point a CNAME or alias record for ${config.domains.api.domainName} here`,
        value: this.restApi.restApi.domainName!.domainNameAliasDomainName,
      });
    }
  }
}
