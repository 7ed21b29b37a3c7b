import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { BACKGROUND_FUNCTIONS } from '../../lambda/deployments';
import {
  BUILDER_ASSET_VARIABLE,
  builderBuildspec,
  stageBuilder,
} from '../../containers/builds/builder/deploy';
import { ApiFirewall } from '../api/api-firewall';
import { PlatformRestApi } from '../api/platform-rest-api';
import { configSettings } from '../config/config-settings';
import { PlatformConfig } from '../config/platform-config';
import { HandlerAccess } from '../core/handler-access';
import { publishedValue } from '../core/published-value';
import { nameUniqueToStack } from '../core/stack-unique-name';
import { TriggeredFunction } from '../core/triggered-function';
import { AlgorithmBuilds } from '../builds/algorithm-builds';
import { BuildAccess } from '../builds/build-access';
import { buildResourceNames } from '../builds/build-resource-names';
import { JobAccess } from '../jobs/job-access';
import { jobResourceNames } from '../jobs/job-resource-names';
import { ComputeStack } from './compute-stack';
import { DataStack } from './data-stack';

export interface ApiStackProps extends StackProps {
  readonly config: PlatformConfig;
  /** The stateful stack: tables, bucket, key, queues, user pool, distribution. */
  readonly data: DataStack;
  /** The compute stack, whose job log group the handlers read and name in job definitions. */
  readonly compute: ComputeStack;
}

/**
 * The job API in the home region, stateless: the REST API with one Lambda handler per operation,
 * the web ACL in front of it, and the functions that triggers invoke (the converter, the job
 * state tracker, the sweepers). Each is deployed as the deployment beside its handler says
 * (`API_OPERATIONS`, `BACKGROUND_FUNCTIONS`). With them, the algorithm build pipeline, which
 * invokes the function of its register action. Deleting and redeploying it loses no data.
 */
export class ApiStack extends Stack {
  readonly restApi: PlatformRestApi;
  readonly firewall: ApiFirewall;
  /** The functions that triggers invoke, by handler folder. */
  readonly triggeredFunctions: ReadonlyMap<string, TriggeredFunction>;
  /** The build pipeline, whose register action invokes a function of this stack. */
  readonly algorithmBuilds: AlgorithmBuilds;
  /** The API's URL without `/v1` and without a trailing slash, as viewer hosts call it. */
  readonly apiBaseUrl: string;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const { config, data, compute } = props;
    const logging = {
      logEncryptionKey: data.platformKey.key,
      logRetentionDays: config.retention.logRetentionDays,
      tracing: config.operations.tracing,
    };

    // Named through the data stack's output for it (see publishedValue), so IAM statements on its
    // objects read the same in tests and in `cdk synth`.
    const imagingBucket = s3.Bucket.fromBucketAttributes(this, 'ImagingBucket', {
      bucketName: publishedValue(data.imagingBucket.bucket, data.imagingBucket.bucket.bucketName),
      encryptionKey: data.platformKey.key,
    });
    this.addStackDependency(data);
    this.addStackDependency(compute);
    const jobs = new JobAccess(
      this,
      jobResourceNames(config),
      publishedValue(compute.algorithms.logGroup, compute.algorithms.logGroup.logGroupName),
    );
    const repository = data.algorithmRepository.repository;
    const builds = new BuildAccess(
      this,
      buildResourceNames(config),
      publishedValue(repository, repository.repositoryName),
      // The pipeline's stack: this one.
      nameUniqueToStack(this, buildResourceNames(config).logGroup),
    );
    const access = new HandlerAccess({
      tables: data.tables,
      imagingBucket,
      objectKey: data.platformKey.key,
      conversionQueue: data.conversionQueue,
      buildQueue: data.buildQueue,
      builds,
      imagingDistribution: data.imagingDistribution,
      pageTokenKey: data.pageTokenKey,
      sessionSigningKey: data.sessionSigningKey,
      jobs,
      config: configSettings(config),
    });

    this.restApi = new PlatformRestApi(this, 'RestApi', {
      userPool: data.userPool.userPool,
      handlerAccess: access,
      ...logging,
      webOrigins: config.webOrigins,
      domain: config.domains.api,
      detailedMetrics: config.operations.detailedApiMetrics,
    });
    this.firewall = new ApiFirewall(this, 'Firewall', {
      stage: this.restApi.restApi.deploymentStage,
      ...logging,
    });

    // Imported, so that the rules add nothing to the queue's policy: the data stack grants them.
    const backgroundFailures = sqs.Queue.fromQueueAttributes(this, 'BackgroundFailures', {
      queueArn: data.backgroundFailures.queueArn,
      // Given, not parsed from the ARN: the alarms on it take the name as it is.
      queueName: data.backgroundFailures.queueName,
      keyArn: data.platformKey.key.keyArn,
    });
    const triggered = new Map<string, TriggeredFunction>();
    for (const deployment of BACKGROUND_FUNCTIONS) {
      // A custom resource's function is deployed by the construct of that resource.
      if (deployment.trigger.kind === 'customResource') continue;
      const id = deployment.handler
        .split('/')[1]
        .replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase());
      triggered.set(
        deployment.handler,
        new TriggeredFunction(this, id, {
          deployment,
          access,
          queues: {
            conversion: data.conversionQueue.queue,
            conversionDeadLetters: data.conversionQueue.deadLetterQueue,
            builds: data.buildQueue.queue,
          },
          jobQueueArns: jobs.jobQueueArns,
          buildProject: buildResourceNames(config).project,
          deadLetterQueue: backgroundFailures,
          ...logging,
        }),
      );
    }
    this.triggeredFunctions = triggered;

    // The pipeline's register action invokes the function whose deployment says so.
    const register = BACKGROUND_FUNCTIONS.find((d) => d.trigger.kind === 'buildPipelineAction');
    if (!register) throw new Error('no function registers builds: the build pipeline needs one');
    this.algorithmBuilds = new AlgorithmBuilds(this, 'AlgorithmBuilds', {
      names: builds.names,
      logGroupName: builds.logGroupName,
      settings: config.builds,
      limits: access.settings,
      imagingBucket,
      platformKey: data.platformKey.key,
      artifactBucket: s3.Bucket.fromBucketAttributes(this, 'BuildArtifacts', {
        bucketName: publishedValue(data.buildArtifacts.bucket, data.buildArtifacts.bucket.bucketName),
        encryptionKey: data.platformKey.key,
      }),
      repository: ecr.Repository.fromRepositoryAttributes(this, 'AlgorithmRepository', {
        repositoryName: builds.repositoryName,
        repositoryArn: builds.repositoryArn,
      }),
      register: triggered.get(register.handler)!.handler.function,
      builder: {
        stage: stageBuilder,
        buildspec: builderBuildspec(access.settings),
        assetVariable: BUILDER_ASSET_VARIABLE,
      },
      logRetentionDays: config.retention.logRetentionDays,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.restApi.url });
    const api = this.restApi.restApi;
    this.apiBaseUrl = config.domains.api
      ? `https://${config.domains.api.domainName}`
      : `https://${api.restApiId}.execute-api.${this.region}.${this.urlSuffix}/${api.deploymentStage.stageName}`;
    new CfnOutput(this, 'ApiBaseUrl', {
      description: 'The API without /v1: viewer hosts of every region report sessions here',
      value: this.apiBaseUrl,
    });
    if (config.domains.api) {
      new CfnOutput(this, 'ApiDomainTarget', {
        description: `Point a CNAME or alias record for ${config.domains.api.domainName} here`,
        value: this.restApi.restApi.domainName!.domainNameAliasDomainName,
      });
    }
  }
}
