import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { PlatformConfig } from '../config/platform-config';
import { JobLaunchTemplate } from './job-launch-template';
import { JobResourceNames } from './job-resource-names';
import { JobRoles } from './job-roles';
import { ScalingJobQueue } from './scaling-job-queue';

/**
 * The longest a job attempt may run: the contract's largest time limit (24 hours) plus the time
 * the runner has for placing inputs and storing outputs.
 */
export const LONGEST_JOB = Duration.seconds(86_400 + 300);

export interface AlgorithmComputeProps {
  /** Names the API submits to; the queues, job definition and log group are created under them. */
  readonly names: JobResourceNames;
  readonly compute: PlatformConfig['compute'];
  /** Bytes each job may write to its own root file system (`limits.writableRootBytes`). */
  readonly writableRootBytes: number;
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
  /** Days that job logs are kept. */
  readonly logRetentionDays: number;
  /** Name of the job log group, which the API also names (`nameUniqueToStack`). */
  readonly logGroupName: string;
  /**
   * Name of the log group that hears of job instances whose boot hooks failed.
   * @default - one CloudFormation names
   */
  readonly bootFailureLogGroupName?: string;
}

/**
 * Where algorithm jobs run: a GPU queue on NVIDIA instances and a CPU queue, both scaling to
 * zero, one launch template that keeps containers away from the instance's credentials, the
 * roles jobs run under and the encrypted job log group. Each algorithm version's job
 * definition is registered when the version becomes active (`lambda/algorithms/job-definition.ts`),
 * with these roles, log group and retry strategy.
 */
export class AlgorithmCompute extends Construct {
  readonly gpuJobQueue: ScalingJobQueue;
  readonly cpuJobQueue: ScalingJobQueue;
  readonly launchTemplate: JobLaunchTemplate;
  readonly roles: JobRoles;
  readonly logGroup: logs.LogGroup;
  /**
   * One stream per job instance whose boot hook failed, which then shut itself down: Batch
   * launches another in its place, which bills again (`JobAlarms` counts them).
   */
  readonly bootFailureLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: AlgorithmComputeProps) {
    super(scope, id);
    const { names, compute } = props;

    this.bootFailureLogGroup = new logs.LogGroup(this, 'BootFailureLogs', {
      logGroupName: props.bootFailureLogGroupName,
      retention: props.logRetentionDays as logs.RetentionDays,
      encryptionKey: props.platformKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.launchTemplate = new JobLaunchTemplate(this, 'LaunchTemplate', {
      volumeGiB: compute.instanceVolumeGiB,
      writableRootBytes: props.writableRootBytes,
      bootFailureLogGroupName: this.bootFailureLogGroup.logGroupName,
    });
    this.roles = new JobRoles(this, 'Roles', {
      imagingBucket: props.imagingBucket,
      imagingKey: props.platformKey,
      names,
    });
    // The boot hooks write as the instance, before the ECS agent starts; containers never reach
    // the instance role (the metadata guard).
    this.bootFailureLogGroup.grantWrite(this.roles.instanceRole);
    const placement = {
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: [props.securityGroup],
      launchTemplate: this.launchTemplate,
      instanceRole: this.roles.instanceRole,
      purchaseOption: compute.purchaseOption,
      longestJob: LONGEST_JOB,
      capacityWait: Duration.minutes(compute.capacityWaitMinutes),
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
      logGroupName: props.logGroupName,
      retention: props.logRetentionDays as logs.RetentionDays,
      encryptionKey: props.platformKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // The agent writes each job's lines for it, as the job definitions' awslogs driver says.
    this.logGroup.grantWrite(this.roles.executionRole);
  }

  /** Lets jobs run images from the repository. */
  grantImagePull(repository: ecr.IRepository): iam.Grant {
    return this.roles.grantImagePull(repository);
  }
}
