import { RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { IsolatedNetwork } from '../network/isolated-network';
import { acknowledge, acknowledgeInlinePolicy } from './acknowledgements';
import { nameUniqueToStack } from './stack-unique-name';

export interface FargateBatchWorkloadProps {
  readonly network: IsolatedNetwork;
  /** The queue's name, which the api stack submits to. */
  readonly jobQueueName: string;
  /** The log group's name, made unique to the stack (it is retained). */
  readonly logGroupName: string;
  /** Encrypts the log group. */
  readonly platformKey: kms.IKey;
  readonly logRetentionDays: number;
  /** The vCPU ceiling of the compute environment: how many jobs run at once. */
  readonly maxVcpus: number;
  /** How the security group, the roles and the acknowledgements name the workload. */
  readonly describe: {
    /** e.g. "the image converter" */
    readonly workload: string;
    readonly executionRole: string;
    readonly jobRole: string;
    /** e.g. "converter" */
    readonly repository: string;
  };
}

export interface FargateContainerProps {
  readonly image: ecrAssets.DockerImageAsset;
  readonly command: readonly string[];
  readonly cpu: number;
  readonly memory: Size;
  readonly environment: Record<string, string>;
  /** POWERTOOLS_SERVICE_NAME, which names the workload in its logs. */
  readonly serviceName: string;
  readonly streamPrefix: string;
  readonly ephemeralStorageSize?: Size;
  readonly volumes?: batch.EcsVolume[];
}

/**
 * A container workload on AWS Batch with Fargate: on-demand capacity in the isolated subnets,
 * its queue, an encrypted log group it retains, an execution role that pulls the image and
 * writes the logs, and a job role that the workload's own grants fill. Subclasses add the job
 * definition, with `container` for what every such container shares.
 */
export abstract class FargateBatchWorkload extends Construct {
  readonly computeEnvironment: batch.FargateComputeEnvironment;
  readonly jobQueue: batch.JobQueue;
  readonly jobRole: iam.Role;
  readonly executionRole: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: FargateBatchWorkloadProps) {
    super(scope, id);
    const { network, describe } = props;
    const securityGroup = network.workloadSecurityGroup(this, 'SecurityGroup', describe.workload);
    this.computeEnvironment = new batch.FargateComputeEnvironment(this, 'ComputeEnvironment', {
      vpc: network.vpc,
      vpcSubnets: network.subnets,
      securityGroups: [securityGroup],
      maxvCpus: props.maxVcpus,
      spot: false,
    });
    this.jobQueue = new batch.JobQueue(this, 'JobQueue', {
      jobQueueName: props.jobQueueName,
      computeEnvironments: [{ computeEnvironment: this.computeEnvironment, order: 1 }],
    });

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: nameUniqueToStack(this, props.logGroupName),
      encryptionKey: props.platformKey,
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: describe.executionRole,
    });
    this.jobRole = new iam.Role(this, 'JobRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: describe.jobRole,
    });
    for (const role of [this.jobRole, this.executionRole]) acknowledgeInlinePolicy(role);
    acknowledge(this.executionRole, {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: `Only ecr:GetAuthorizationToken uses Resource *: ECR supports no resource-level permission for it (Service Authorization Reference); image pulls are limited to the ${describe.repository} repository.`,
    });
  }

  /**
   * The workload's container: x86_64 (the image is built for it), no public address, a read-only
   * root file system, the base image's unprivileged node user, its roles and its log group.
   */
  protected container(props: FargateContainerProps): batch.EcsFargateContainerDefinition {
    return new batch.EcsFargateContainerDefinition(this, 'Container', {
      image: ecs.ContainerImage.fromDockerImageAsset(props.image),
      command: [...props.command],
      cpu: props.cpu,
      memory: props.memory,
      ephemeralStorageSize: props.ephemeralStorageSize,
      fargatePlatformVersion: ecs.FargatePlatformVersion.LATEST,
      fargateCpuArchitecture: ecs.CpuArchitecture.X86_64,
      fargateOperatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      assignPublicIp: false,
      readonlyRootFilesystem: true,
      // The node user of the base image.
      user: '1000:1000',
      volumes: props.volumes,
      environment: {
        ...props.environment,
        AWS_REGION: Stack.of(this).region,
        POWERTOOLS_SERVICE_NAME: props.serviceName,
      },
      jobRole: this.jobRole,
      executionRole: this.executionRole,
      logging: ecs.LogDriver.awsLogs({ logGroup: this.logGroup, streamPrefix: props.streamPrefix }),
    });
  }
}
