import { Duration, Size } from 'aws-cdk-lib';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { CONVERTER_JOB_COMMAND } from '../../../lambda/contracts/converter-jobs';
import { PlatformConfig } from '../../../lib/config/platform-config';
import { FargateBatchWorkload } from '../../../lib/core/fargate-batch-workload';
import { HandlerAccess } from '../../../lib/core/handler-access';
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
export class ImageConverterJobs extends FargateBatchWorkload {
  readonly jobDefinition: batch.EcsJobDefinition;

  constructor(scope: Construct, id: string, props: ImageConverterJobsProps) {
    const { names, sizing } = props;
    super(scope, id, {
      network: props.network,
      jobQueueName: names.converterJobQueue,
      logGroupName: names.converterLogGroup,
      platformKey: props.platformKey,
      logRetentionDays: props.logRetentionDays,
      maxVcpus: sizing.maxVcpus,
      describe: {
        workload: 'the image converter',
        executionRole: 'Pulls the converter image and writes its logs',
        jobRole: 'Converts one image: its uploads, tables and outputs',
        repository: 'converter',
      },
    });
    // The same permissions as the converter function's, and the environment they imply.
    props.access.grant(this.jobRole, converterContainer.permissions);

    const image = new ImageConverterImage(this, 'Image');
    this.jobDefinition = new batch.EcsJobDefinition(this, 'JobDefinition', {
      jobDefinitionName: names.converterJobDefinition,
      retryAttempts: 1,
      timeout: props.timeout ?? Duration.hours(6),
      container: this.container({
        image: image.asset,
        command: CONVERTER_JOB_COMMAND,
        cpu: sizing.containerVcpus,
        memory: Size.mebibytes(sizing.containerMemoryMiB),
        ephemeralStorageSize: Size.gibibytes(sizing.containerStorageGiB),
        volumes: [batch.EcsVolume.host({ name: 'scratch', containerPath: SCRATCH })],
        environment: {
          ...props.access.environment(converterContainer, { conversionWorkDir: SCRATCH }),
          TMPDIR: SCRATCH,
        },
        serviceName: 'image-converter',
        streamPrefix: 'converter',
      }),
    });
  }
}
