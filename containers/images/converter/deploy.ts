import { Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { CONVERTER_JOB_COMMAND } from '../../../lambda/contracts/converter-jobs';
import { PlatformConfig } from '../../../lib/config/platform-config';
import { acknowledge, acknowledgeInlinePolicy } from '../../../lib/core/acknowledgements';
import { HandlerAccess } from '../../../lib/core/handler-access';
import { nameUniqueToStack } from '../../../lib/core/stack-unique-name';
import { JobResourceNames } from '../../../lib/jobs/job-resource-names';
import { IsolatedNetwork } from '../../../lib/network/isolated-network';
import { converterContainer } from './container';
import { ImageConverterImage } from './deploy-image';

/** Where the container keeps the upload set and libvips' temporary files. */
const SCRATCH = '/scratch';

export interface ImageConverterJobsProps {
  readonly network: IsolatedNetwork;
  readonly names: JobResourceNames;
  readonly sizing: PlatformConfig['conversion'];
  /** Grants the job role what converting touches and gives the container its environment. */
  readonly access: HandlerAccess;
  /** Encrypts the log group. */
  readonly platformKey: kms.IKey;
  readonly logRetentionDays: number;
  /**
   * Longest one conversion may run before Batch stops it and the image is marked Failed.
   * @default Duration.hours(6)
   */
  readonly timeout?: Duration;
}

/**
 * The converter container on AWS Batch with Fargate: a compute environment in the isolated
 * subnets, the converter queue and job definition under the names the api stack submits to, a
 * job role holding exactly what a conversion needs, and an encrypted log group. On-demand
 * Fargate, one attempt: a failure is a property of the upload set, not of a reclaimed host, and
 * the api stack marks the image Failed on the job's FAILED event.
 */
export class ImageConverterJobs extends Construct {
  readonly computeEnvironment: batch.FargateComputeEnvironment;
  readonly jobQueue: batch.JobQueue;
  readonly jobDefinition: batch.EcsJobDefinition;
  readonly jobRole: iam.Role;
  readonly executionRole: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ImageConverterJobsProps) {
    super(scope, id);
    const { network, names, sizing } = props;
    const securityGroup = network.workloadSecurityGroup(this, 'SecurityGroup', 'the image converter');
    this.computeEnvironment = new batch.FargateComputeEnvironment(this, 'ComputeEnvironment', {
      vpc: network.vpc,
      vpcSubnets: network.subnets,
      securityGroups: [securityGroup],
      maxvCpus: sizing.maxVcpus,
      spot: false,
    });
    this.jobQueue = new batch.JobQueue(this, 'JobQueue', {
      jobQueueName: names.converterJobQueue,
      computeEnvironments: [{ computeEnvironment: this.computeEnvironment, order: 1 }],
    });

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: nameUniqueToStack(this, names.converterLogGroup),
      encryptionKey: props.platformKey,
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Pulls the converter image and writes its logs',
    });
    this.jobRole = new iam.Role(this, 'JobRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Converts one image: its uploads, tables and outputs',
    });
    // The same permissions as the converter function's, and the environment they imply.
    props.access.grant(this.jobRole, converterContainer.permissions);
    const environment = props.access.environment(converterContainer, { conversionWorkDir: SCRATCH });
    for (const role of [this.jobRole, this.executionRole]) acknowledgeInlinePolicy(role);
    acknowledge(this.executionRole, {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only ecr:GetAuthorizationToken uses Resource *: ECR supports no resource-level permission for it (Service Authorization Reference); image pulls are limited to the converter repository.',
    });

    const image = new ImageConverterImage(this, 'Image');
    this.jobDefinition = new batch.EcsJobDefinition(this, 'JobDefinition', {
      jobDefinitionName: names.converterJobDefinition,
      retryAttempts: 1,
      timeout: props.timeout ?? Duration.hours(6),
      container: new batch.EcsFargateContainerDefinition(this, 'Container', {
        image: ecs.ContainerImage.fromDockerImageAsset(image.asset),
        command: [...CONVERTER_JOB_COMMAND],
        cpu: sizing.containerVcpus,
        memory: Size.mebibytes(sizing.containerMemoryMiB),
        ephemeralStorageSize: Size.gibibytes(sizing.containerStorageGiB),
        fargatePlatformVersion: ecs.FargatePlatformVersion.LATEST,
        fargateCpuArchitecture: ecs.CpuArchitecture.X86_64,
        fargateOperatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
        assignPublicIp: false,
        readonlyRootFilesystem: true,
        // The node user of the base image.
        user: '1000:1000',
        volumes: [batch.EcsVolume.host({ name: 'scratch', containerPath: SCRATCH })],
        environment: {
          ...environment,
          AWS_REGION: Stack.of(this).region,
          POWERTOOLS_SERVICE_NAME: 'image-converter',
          TMPDIR: SCRATCH,
        },
        jobRole: this.jobRole,
        executionRole: this.executionRole,
        logging: ecs.LogDriver.awsLogs({ logGroup: this.logGroup, streamPrefix: 'converter' }),
      }),
    });
  }
}
