import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ImageConverterJobs } from '../../containers/images/converter/deploy';
import { JobInputStaging } from '../../containers/jobs/input-stager/deploy';
import { configSettings } from '../config/config-settings';
import { PlatformConfig } from '../config/platform-config';
import { acknowledgeWildcard } from '../core/acknowledgements';
import { HandlerAccess } from '../core/handler-access';
import { nameUniqueToStack } from '../core/stack-unique-name';
import { publishedValue } from '../core/published-value';
import { AlgorithmCompute } from '../jobs/algorithm-compute';
import { BuildAccess } from '../builds/build-access';
import { buildResourceNames } from '../builds/build-resource-names';
import { JobAccess } from '../jobs/job-access';
import { jobResourceNames } from '../jobs/job-resource-names';
import { IsolatedNetwork } from '../network/isolated-network';
import { DataStack } from './data-stack';

export interface ComputeStackProps extends StackProps {
  readonly config: PlatformConfig;
  /** The stateful stack, whose bucket, tables and key the converter and the jobs use. */
  readonly data: DataStack;
}

/**
 * Compute in the home region, stateless: the isolated network that platform containers run in,
 * the converter container on AWS Batch with Fargate for upload sets the converter function does
 * not take, the input stager (Fargate) that copies each job's inputs before it runs, and the GPU
 * and CPU queues that run algorithm jobs. The api stack reaches the Batch
 * resources by name (`jobResourceNames`).
 */
export class ComputeStack extends Stack {
  readonly network: IsolatedNetwork;
  readonly imageConverter: ImageConverterJobs;
  readonly inputStaging: JobInputStaging;
  readonly algorithms: AlgorithmCompute;

  constructor(scope: Construct, id: string, props: ComputeStackProps) {
    super(scope, id, props);
    const { config, data } = props;
    // Named through the data stack's output for it (see publishedValue), as the api stack names it.
    const imagingBucket = s3.Bucket.fromBucketAttributes(this, 'ImagingBucket', {
      bucketName: publishedValue(data.imagingBucket.bucket, data.imagingBucket.bucket.bucketName),
      encryptionKey: data.platformKey.key,
    });
    this.addStackDependency(data);
    const names = jobResourceNames(config);
    const jobLogGroupName = nameUniqueToStack(this, names.logGroup);

    this.network = new IsolatedNetwork(this, 'Network', {
      buckets: [imagingBucket],
      flowLogEncryptionKey: data.platformKey.key,
      flowLogRetentionDays: config.retention.logRetentionDays,
      availabilityZones: config.compute.availabilityZones,
      gatewayEndpoints: { DynamoDb: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
    });
    const repository = data.algorithmRepository.repository;
    const builds = new BuildAccess(
      this,
      buildResourceNames(config),
      publishedValue(repository, repository.repositoryName),
      // No handler or container of this stack reads build logs: the api stack, which holds the
      // group, names it after its own creation.
      buildResourceNames(config).logGroup,
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
      jobs: new JobAccess(this, names, jobLogGroupName),
      config: configSettings(config),
    });
    this.imageConverter = new ImageConverterJobs(this, 'ImageConverter', {
      network: this.network,
      names,
      sizing: config.conversion,
      access,
      platformKey: data.platformKey.key,
      logRetentionDays: config.retention.logRetentionDays,
    });
    this.inputStaging = new JobInputStaging(this, 'JobInputStaging', {
      network: this.network,
      names,
      access,
      platformKey: data.platformKey.key,
      logRetentionDays: config.retention.logRetentionDays,
    });
    this.algorithms = new AlgorithmCompute(this, 'Algorithms', {
      names,
      compute: config.compute,
      writableRootBytes: config.limits.writableRootBytes,
      vpc: this.network.vpc,
      vpcSubnets: this.network.subnets,
      securityGroup: this.network.workloadSecurityGroup(this, 'JobInstances', 'algorithm job instances'),
      imagingBucket,
      platformKey: data.platformKey.key,
      logRetentionDays: config.retention.logRetentionDays,
      logGroupName: jobLogGroupName,
      bootFailureLogGroupName: nameUniqueToStack(this, names.bootFailureLogGroup),
    });
    // A version names an image of any repository of this account, as activation checks it; the
    // execution role pulls it when Batch starts the job.
    const algorithmImages = ecr.Repository.fromRepositoryAttributes(this, 'AlgorithmImages', {
      repositoryName: '*',
      repositoryArn: this.formatArn({ service: 'ecr', resource: 'repository', resourceName: '*' }),
    });
    this.algorithms.grantImagePull(algorithmImages);
    acknowledgeWildcard(
      this.algorithms.roles.executionRole,
      algorithmImages.repositoryArn,
      "Editors name their image's repository, any of this account's; the execution role only pulls from them, as the API's activation only reads them.",
    );
    // Builds push to the algorithm repository, whose images versions name.
    this.algorithms.grantImagePull(
      ecr.Repository.fromRepositoryAttributes(this, 'AlgorithmRepository', {
        repositoryName: builds.repositoryName,
        repositoryArn: publishedValue(repository, repository.repositoryArn),
      }),
    );
    // Read by the api stack, whose handlers read jobs' logs and register job definitions.
    new CfnOutput(this, 'JobLogGroupName', { value: this.algorithms.logGroup.logGroupName });
  }
}
