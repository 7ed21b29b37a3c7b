import { Duration, RemovalPolicy, Size, Stack, Validations } from 'aws-cdk-lib';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { Construct } from 'constructs';
import { CONVERTER_JOB_COMMAND } from '../../../lambda/images/converter-jobs';
import { TableName, TABLES } from '../../../lambda/contracts/tables';
import { ApiTables } from '../../../lib/data/api-tables';
import { CONVERSION_PERMISSIONS } from '../../../lib/images/conversion-permissions';
import { PlatformConfig } from '../../../lib/config/platform-config';
import { IsolatedNetwork } from '../../../lib/network/isolated-network';
import { ImageConverterImage } from './image-converter-image';
import { JobResourceNames } from '../../../lib/jobs/job-resource-names';

/** Where the container keeps the upload set and libvips' temporary files. */
const SCRATCH = '/scratch';

export interface ImageConverterJobsProps {
  readonly network: IsolatedNetwork;
  readonly names: JobResourceNames;
  readonly sizing: PlatformConfig['conversion'];
  readonly tables: ApiTables;
  /** The imaging bucket, named as the api stack names it. */
  readonly imagingBucket: s3.IBucket;
  /** Encrypts the bucket's objects and the log group. */
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
      logGroupName: names.converterLogGroup,
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
    const environment = this.grantConversion(props);
    const inlinePolicy =
      'The policy is attached to this one role and holds only its own grants; a customer-managed policy would carry the same statements.';
    for (const role of [this.jobRole, this.executionRole]) {
      Validations.of(role).acknowledge(
        ...['HIPAA.Security', 'NIST.800.53.R5'].map((pack) => ({
          id: `${pack}-IAMNoInlinePolicy`,
          reason: inlinePolicy,
        })),
      );
    }
    Validations.of(this.executionRole).acknowledge({
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
          CONVERSION_WORK_DIR: SCRATCH,
          TMPDIR: SCRATCH,
        },
        jobRole: this.jobRole,
        executionRole: this.executionRole,
        logging: ecs.LogDriver.awsLogs({ logGroup: this.logGroup, streamPrefix: 'converter' }),
      }),
    });
  }

  /** The job role's grants, from the same list as the converter function's; returns the variables naming what it may touch. */
  private grantConversion(props: ImageConverterJobsProps): Record<string, string> {
    const stack = Stack.of(this);
    const environment: Record<string, string> = { IMAGING_BUCKET: props.imagingBucket.bucketName };
    for (const [name, actions] of Object.entries(CONVERSION_PERMISSIONS.tables) as [
      TableName,
      Parameters<ApiTables['grant']>[2],
    ][]) {
      props.tables.grant(this.jobRole, name, actions);
      environment[TABLES[name].nameVariable] = props.tables.table(name).tableName;
    }
    for (const { prefix, actions } of CONVERSION_PERMISSIONS.imagingObjects) {
      const objects = props.imagingBucket.arnForObjects(`${prefix}*`);
      this.jobRole.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: [...actions], resources: [objects] }),
      );
      Validations.of(this.jobRole).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${flattenCfnReference(stack.resolve(objects))}]`,
        reason: `Object keys under ${prefix} are made per user, upload and image at run time, so no exact ARN exists beforehand; the prefix keeps the converter to them, and ${actions.join(', ')} is all it may do there.`,
      });
    }
    this.jobRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [...CONVERSION_PERMISSIONS.objectEncryption],
        resources: [props.platformKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } },
      }),
    );
    return environment;
  }
}
