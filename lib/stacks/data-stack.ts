import { CfnOutput, Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { sessionPublicKeyParameter } from '../../lambda/contracts/viewer-host';
import { ApiUserPool } from '../api/api-user-pool';
import { PlatformConfig } from '../config/platform-config';
import { acknowledge, REASONS } from '../core/acknowledgements';
import { AccessLogBucket } from '../data/access-log-bucket';
import { ImagingBucket } from '../data/imaging-bucket';
import { PageTokenKey } from '../data/page-token-key';
import { PlatformKey } from '../data/platform-key';
import { PlatformTables } from '../data/platform-tables';
import { ImagingDistribution } from '../delivery/imaging-distribution';
import { UrlSigningKeyPair } from '../delivery/url-signing-key-pair';
import { SessionSigningKey } from '../sessions/session-signing-key';
import { WorkQueue } from '../core/work-queue';
import { nameUniqueToStack } from '../core/stack-unique-name';
import { AlgorithmRepository } from '../builds/algorithm-repository';
import { BuildArtifactBucket } from '../builds/build-artifact-bucket';
import { buildResourceNames } from '../builds/build-resource-names';
import { CONVERSION_QUEUE } from '../../lambda/contracts/conversion-queue';
import { BUILD_QUEUE } from '../../lambda/contracts/builds';

export interface DataStackProps extends StackProps {
  readonly config: PlatformConfig;
  /**
   * Name of the stateless stack whose EventBridge rules send failed events to
   * `backgroundFailures`: its rules' names start with it, as CloudFormation names them.
   */
  readonly eventRulesStackName: string;
}

/**
 * The stateful stack: everything that holds data and must outlive a redeploy, retained when the
 * stack is deleted. The KMS key, the imaging bucket and its access logs, the tables, the
 * researchers' accounts, the queues that hold work, the algorithm images, the URL-signing key pairs in Secrets
 * Manager (handlers move to a new one last, see `switchesAfter`) and the page token key. The
 * CloudFront distribution lives here too: bucket and distribution share a stack, or
 * Origin Access Control's bucket and key policies form a cycle. The stateless stacks (api,
 * compute) take these constructs as props; CDK makes the references between stacks weak
 * (Fn::GetStackOutput), as cdk.json configures it.
 */
export class DataStack extends Stack {
  readonly platformKey: PlatformKey;
  readonly imagingBucket: ImagingBucket;
  readonly signingKeyPair: UrlSigningKeyPair;
  /** Signs viewer session credentials; its public key is published for viewers. */
  readonly sessionSigningKey: SessionSigningKey;
  readonly imagingDistribution: ImagingDistribution;
  readonly tables: PlatformTables;
  /** Signs the page tokens of list operations. */
  readonly pageTokenKey: PageTokenKey;
  readonly userPool: ApiUserPool;
  readonly conversionQueue: WorkQueue;
  /** Builds whose context upload completed, waiting for the pipeline to be started. */
  readonly buildQueue: WorkQueue;
  /** Events that background functions failed on after every retry. */
  readonly backgroundFailures: sqs.Queue;
  /** The images that algorithm builds push and versions run. */
  readonly algorithmRepository: AlgorithmRepository;
  /** The build pipeline's artifacts: copies of build contexts, for days. */
  readonly buildArtifacts: BuildArtifactBucket;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.platformKey = new PlatformKey(this, 'PlatformKey', { alias: `alias/${config.name}-data` });
    const accessLogs = new AccessLogBucket(this, 'AccessLogs', {
      retentionDays: config.retention.accessLogDays,
    });
    this.imagingBucket = new ImagingBucket(this, 'Imaging', {
      encryptionKey: this.platformKey.key,
      accessLogsBucket: accessLogs.bucket,
      webOrigins: config.webOrigins,
      incompleteUploadDays: config.limits.incompleteUploadDays,
      convertedUploadDays: config.retention.convertedUploadDays,
      buildSourceDays: config.retention.buildSourceDays,
      noncurrentVersionDays: config.retention.noncurrentVersionDays,
    });
    this.signingKeyPair = new UrlSigningKeyPair(this, 'UrlSigningKeyPair', {
      encryptionKey: this.platformKey.key,
      logRetentionDays: config.retention.logRetentionDays,
      generation: config.urlSigningKeyGeneration,
      retiredGeneration: config.urlSigningKeyRetiredGeneration,
    });
    this.imagingDistribution = new ImagingDistribution(this, 'ImagingDistribution', {
      bucket: this.imagingBucket.bucket,
      signingKeyPair: this.signingKeyPair,
      logBucket: accessLogs.bucket,
      domain: config.domains.images,
    });
    this.tables = new PlatformTables(this, 'Tables', { encryptionKey: this.platformKey.key });
    this.sessionSigningKey = new SessionSigningKey(this, 'SessionSigningKey', {
      encryptionKey: this.platformKey.key,
      logRetentionDays: config.retention.logRetentionDays,
      publicKeyParameterName: sessionPublicKeyParameter(config.name),
    });
    this.pageTokenKey = new PageTokenKey(this, 'PageTokenKey', { encryptionKey: this.platformKey.key });
    this.userPool = new ApiUserPool(this, 'Users', {
      selfSignUp: config.users.selfSignUp,
      threatProtection: config.users.threatProtection,
    });
    this.conversionQueue = new WorkQueue(this, 'Conversions', {
      encryptionKey: this.platformKey.key,
      settings: CONVERSION_QUEUE,
    });
    this.buildQueue = new WorkQueue(this, 'Builds', {
      encryptionKey: this.platformKey.key,
      settings: BUILD_QUEUE,
    });
    this.algorithmRepository = new AlgorithmRepository(this, 'AlgorithmRepository', {
      repositoryName: nameUniqueToStack(this, buildResourceNames(config).repository),
      encryptionKey: this.platformKey.key,
      retiredImageDays: config.builds.retiredImageDays,
    });
    this.buildArtifacts = new BuildArtifactBucket(this, 'BuildArtifacts', {
      encryptionKey: this.platformKey.key,
    });
    this.backgroundFailures = new sqs.Queue(this, 'BackgroundFailures', {
      encryptionMasterKey: this.platformKey.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(this.backgroundFailures, { id: 'AwsSolutions-SQS3', reason: REASONS.deadLetterQueue });
    // The rules live in a stateless stack that depends on this one, so they are named by pattern,
    // not by reference (which would make the two stacks depend on each other).
    this.backgroundFailures.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [this.backgroundFailures.queueArn],
        conditions: {
          ArnLike: {
            'aws:SourceArn': this.formatArn({
              service: 'events',
              resource: 'rule',
              resourceName: `${props.eventRulesStackName}-*`,
            }),
          },
        },
      }),
    );

    new CfnOutput(this, 'ImagingBucketName', { value: this.imagingBucket.bucket.bucketName });
    new CfnOutput(this, 'ImagesBaseUrl', { value: this.imagingDistribution.baseUrl });
    new CfnOutput(this, 'SigningKeyPairId', { value: this.signingKeyPair.current.publicKey.publicKeyId });
    new CfnOutput(this, 'SessionPublicKeyPem', {
      description:
        'Viewers verify session credentials with this key (also in the SSM parameter SessionPublicKeyParameter names)',
      value: this.sessionSigningKey.publicKeyPem,
    });
    new CfnOutput(this, 'SessionPublicKeyParameter', {
      value: this.sessionSigningKey.publicKeyParameter.parameterName,
    });
    new CfnOutput(this, 'UserPoolId', { value: this.userPool.userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: this.userPool.appClient.userPoolClientId });
    new CfnOutput(this, 'BuildArtifactsBucketName', { value: this.buildArtifacts.bucket.bucketName });
    new CfnOutput(this, 'AlgorithmRepositoryName', {
      value: this.algorithmRepository.repository.repositoryName,
    });
    new CfnOutput(this, 'AlgorithmRepositoryArn', {
      value: this.algorithmRepository.repository.repositoryArn,
    });
    this.signingKeyPair.switchesAfter(this.node.children);
  }
}
