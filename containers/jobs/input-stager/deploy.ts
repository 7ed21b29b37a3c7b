import { Duration, Size } from 'aws-cdk-lib';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { INPUT_STAGING_JOB_COMMAND } from '../../../lambda/contracts/job-queues';
import { FargateBatchWorkload } from '../../../lib/core/fargate-batch-workload';
import { HandlerAccess } from '../../../lib/core/handler-access';
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
export class JobInputStaging extends FargateBatchWorkload {
  readonly jobDefinition: batch.EcsJobDefinition;

  constructor(scope: Construct, id: string, props: JobInputStagingProps) {
    const { names } = props;
    super(scope, id, {
      network: props.network,
      jobQueueName: names.inputStagingJobQueue,
      logGroupName: names.inputStagingLogGroup,
      platformKey: props.platformKey,
      logRetentionDays: props.logRetentionDays,
      maxVcpus: props.maxVcpus ?? 16,
      describe: {
        workload: 'the job input stager',
        executionRole: 'Pulls the job input stager image and writes its logs',
        jobRole:
          "Copies a job's inputs from images, uploads and the outputs of the jobs it evaluates into the job's folder",
        repository: 'stager',
      },
    });
    props.access.grant(this.jobRole, inputStagerContainer.permissions);

    const image = new JobInputStagerImage(this, 'Image');
    this.jobDefinition = new batch.EcsJobDefinition(this, 'JobDefinition', {
      jobDefinitionName: names.inputStagingJobDefinition,
      // A second try starts the copies afresh; the first one's unfinished uploads were aborted.
      retryAttempts: 2,
      timeout: props.timeout ?? Duration.hours(12),
      container: this.container({
        image: image.asset,
        command: INPUT_STAGING_JOB_COMMAND,
        // S3 copies the bytes; the stager only sends requests.
        cpu: 0.5,
        memory: Size.mebibytes(1024),
        environment: props.access.environment(inputStagerContainer),
        serviceName: 'job-input-stager',
        streamPrefix: 'stager',
      }),
    });
  }
}
