import { Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { INPUT_STAGING_JOB_COMMAND } from '../../../lambda/contracts/job-queues';
import { acknowledge, acknowledgeInlinePolicy } from '../../../lib/core/acknowledgements';
import { HandlerAccess } from '../../../lib/core/handler-access';
import { nameUniqueToStack } from '../../../lib/core/stack-unique-name';
import { JobResourceNames } from '../../../lib/jobs/job-resource-names';
import { IsolatedNetwork } from '../../../lib/network/isolated-network';
import { inputStagerContainer } from './container';
import { JobInputStagerImage } from './deploy-image';

export interface JobInputStagingProps {
  readonly network: IsolatedNetwork;
  readonly names: JobResourceNames;
  /** Grants the job role what staging touches and gives the container its environment. */
  readonly access: HandlerAccess;
  /** Encrypts the log group. */
  readonly platformKey: kms.IKey;
  readonly logRetentionDays: number;
  /**
   * Staging jobs running at once, as the vCPU ceiling of their compute environment (half a vCPU each).
   * @default 16
   */
  readonly maxVcpus?: number;
  /**
   * Longest the copies of one job's inputs may take before Batch stops them and the job fails.
   * 5 TiB, the largest object, copies inside S3 in well under this.
   * @default Duration.hours(12)
   */
  readonly timeout?: Duration;
}

/**
 * The staging jobs on AWS Batch with Fargate: before an algorithm's job may start (it depends on
 * its staging job), the input stager copies the job's inputs from the images and uploads they
 * were submitted as into the job's own folder, where the job runner reads them. A Batch job
 * rather than the API request, because a copy of up to 5 TiB takes longer than any request; on
 * Fargate rather than the algorithm hosts, because its role reads every image and upload. A
 * compute environment in the isolated subnets, a queue and job definition under the names the api
 * stack submits to, a job role holding exactly what staging needs, an encrypted log group.
 */
export class JobInputStaging extends Construct {
  readonly computeEnvironment: batch.FargateComputeEnvironment;
  readonly jobQueue: batch.JobQueue;
  readonly jobDefinition: batch.EcsJobDefinition;
  readonly jobRole: iam.Role;
  readonly executionRole: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: JobInputStagingProps) {
    super(scope, id);
    const { network, names } = props;
    const securityGroup = network.workloadSecurityGroup(this, 'SecurityGroup', 'the job input stager');
    this.computeEnvironment = new batch.FargateComputeEnvironment(this, 'ComputeEnvironment', {
      vpc: network.vpc,
      vpcSubnets: network.subnets,
      securityGroups: [securityGroup],
      maxvCpus: props.maxVcpus ?? 16,
      spot: false,
    });
    this.jobQueue = new batch.JobQueue(this, 'JobQueue', {
      jobQueueName: names.inputStagingJobQueue,
      computeEnvironments: [{ computeEnvironment: this.computeEnvironment, order: 1 }],
    });

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: nameUniqueToStack(this, names.inputStagingLogGroup),
      encryptionKey: props.platformKey,
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Pulls the job input stager image and writes its logs',
    });
    this.jobRole = new iam.Role(this, 'JobRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: "Copies a job's inputs from images and uploads into the job's folder",
    });
    props.access.grant(this.jobRole, inputStagerContainer.permissions);
    const environment = props.access.environment(inputStagerContainer);
    for (const role of [this.jobRole, this.executionRole]) acknowledgeInlinePolicy(role);
    acknowledge(this.executionRole, {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only ecr:GetAuthorizationToken uses Resource *: ECR supports no resource-level permission for it (Service Authorization Reference); image pulls are limited to the stager repository.',
    });

    const image = new JobInputStagerImage(this, 'Image');
    this.jobDefinition = new batch.EcsJobDefinition(this, 'JobDefinition', {
      jobDefinitionName: names.inputStagingJobDefinition,
      // A second try starts the copies afresh; the first one's unfinished uploads were aborted.
      retryAttempts: 2,
      timeout: props.timeout ?? Duration.hours(12),
      container: new batch.EcsFargateContainerDefinition(this, 'Container', {
        image: ecs.ContainerImage.fromDockerImageAsset(image.asset),
        command: [...INPUT_STAGING_JOB_COMMAND],
        // S3 copies the bytes; the stager only sends requests.
        cpu: 0.5,
        memory: Size.mebibytes(1024),
        fargatePlatformVersion: ecs.FargatePlatformVersion.LATEST,
        fargateCpuArchitecture: ecs.CpuArchitecture.X86_64,
        fargateOperatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
        assignPublicIp: false,
        readonlyRootFilesystem: true,
        // The node user of the base image.
        user: '1000:1000',
        environment: {
          ...environment,
          AWS_REGION: Stack.of(this).region,
          POWERTOOLS_SERVICE_NAME: 'job-input-stager',
        },
        jobRole: this.jobRole,
        executionRole: this.executionRole,
        logging: ecs.LogDriver.awsLogs({ logGroup: this.logGroup, streamPrefix: 'stager' }),
      }),
    });
  }
}
