import { Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { JOB_RETRY_STRATEGY } from '../../lambda/shared/jobs/job-retry-strategy';
import { PlatformConfig } from '../config/platform-config';
import { JobLaunchTemplate } from './job-launch-template';
import { JobResourceNames } from './job-resource-names';
import { JobRoles } from './job-roles';
import { ScalingJobQueue } from './scaling-job-queue';

/**
 * The longest a job attempt may run: the contract's largest time limit (24 hours) plus the five
 * minutes that a submission adds for uploading outputs.
 */
export const LONGEST_JOB = Duration.seconds(86_400 + 300);

export interface AlgorithmComputeProps {
  /** Names the API submits to; the queues, job definition and log group are created under them. */
  readonly names: JobResourceNames;
  readonly compute: PlatformConfig['compute'];
  /** A VPC whose job subnets have no route to the internet. */
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  /** Security group of the job instances: HTTPS to the VPC endpoints, nothing else. */
  readonly securityGroup: ec2.ISecurityGroup;
  /**
   * The bucket whose jobs folder holds each job's manifest, inputs and outputs, imported through
   * the data stack's output for its name (`publishedValue`), as the api stack does.
   */
  readonly imagingBucket: s3.IBucket;
  /** Encrypts the bucket's objects and the job logs. */
  readonly platformKey: kms.IKey;
  /** The job runner's image, which the fallback job definition runs. */
  readonly runnerImage: ecs.ContainerImage;
  /** Days that job logs are kept. */
  readonly logRetentionDays: number;
}

/**
 * Where algorithm jobs run: a GPU queue on NVIDIA instances and a CPU queue, both scaling to
 * zero, one launch template that keeps containers away from the instance's credentials, the
 * roles jobs run under, the encrypted job log group, and the job runner's job definition that
 * jobs use when their algorithm version has none of its own.
 */
export class AlgorithmCompute extends Construct {
  readonly gpuJobQueue: ScalingJobQueue;
  readonly cpuJobQueue: ScalingJobQueue;
  readonly launchTemplate: JobLaunchTemplate;
  readonly roles: JobRoles;
  readonly logGroup: logs.LogGroup;
  readonly jobDefinition: batch.EcsJobDefinition;

  constructor(scope: Construct, id: string, props: AlgorithmComputeProps) {
    super(scope, id);
    const { names, compute } = props;

    this.launchTemplate = new JobLaunchTemplate(this, 'LaunchTemplate', {
      volumeGiB: compute.instanceVolumeGiB,
    });
    this.roles = new JobRoles(this, 'Roles', {
      imagingBucket: props.imagingBucket,
      imagingKey: props.platformKey,
    });
    const placement = {
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: [props.securityGroup],
      launchTemplate: this.launchTemplate,
      instanceRole: this.roles.instanceRole,
      purchaseOption: compute.purchaseOption,
      longestJob: LONGEST_JOB,
    };
    this.gpuJobQueue = new ScalingJobQueue(this, 'Gpu', {
      ...placement,
      jobQueueName: names.gpuJobQueue,
      instanceTypes: compute.gpuInstanceTypes,
      imageType: batch.EcsMachineImageType.ECS_AL2023_NVIDIA,
      maxVcpus: compute.maxVcpus,
    });
    this.cpuJobQueue = new ScalingJobQueue(this, 'Cpu', {
      ...placement,
      jobQueueName: names.cpuJobQueue,
      instanceTypes: compute.cpuInstanceTypes,
      imageType: batch.EcsMachineImageType.ECS_AL2023,
      maxVcpus: compute.cpuMaxVcpus,
    });

    this.logGroup = new logs.LogGroup(this, 'JobLogs', {
      logGroupName: names.logGroup,
      retention: props.logRetentionDays as logs.RetentionDays,
      encryptionKey: props.platformKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.jobDefinition = new batch.EcsJobDefinition(this, 'RunnerJobDefinition', {
      jobDefinitionName: names.jobDefinition,
      container: new batch.EcsEc2ContainerDefinition(this, 'RunnerContainer', {
        image: props.runnerImage,
        // Submissions set each algorithm's own vCPUs, memory and GPU.
        cpu: 1,
        memory: Size.gibibytes(2),
        jobRole: this.roles.jobRole,
        executionRole: this.roles.executionRole,
        logging: ecs.LogDriver.awsLogs({ logGroup: this.logGroup, streamPrefix: 'job' }),
        readonlyRootFilesystem: true,
        privileged: false,
      }),
      retryAttempts: JOB_RETRY_STRATEGY.attempts,
      retryStrategies: JOB_RETRY_STRATEGY.evaluateOnExit.map(({ action, ...on }) =>
        batch.RetryStrategy.of(
          action === 'RETRY' ? batch.Action.RETRY : batch.Action.EXIT,
          batch.Reason.custom(on),
        ),
      ),
      // Submissions set the algorithm's limit; this bounds a submission that sets none.
      timeout: LONGEST_JOB,
      propagateTags: true,
    });
  }

  /** Lets jobs run images from the repository. */
  grantImagePull(repository: ecr.IRepository): void {
    this.roles.grantImagePull(repository);
  }
}
