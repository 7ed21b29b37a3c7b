import { BatchClient, SubmitJobCommand } from '@aws-sdk/client-batch';
import { logger } from '../core/logger';
import { ImageRecord } from './image-record';
import { moveImage } from './image-store';

/** Where the converter function sends the sets it does not convert itself; set by the api stack. */
export interface ConverterJobSettings {
  readonly jobQueue: string;
  readonly jobDefinition: string;
  /** Largest upload set the function converts itself. */
  readonly lambdaMaxSetBytes: number;
}

export function converterJobSettings(env: NodeJS.ProcessEnv = process.env): ConverterJobSettings {
  const required = (name: string) => {
    const value = env[name];
    if (!value) throw new Error(`${name} is not set`);
    return value;
  };
  const lambdaMaxSetBytes = Number(required('LAMBDA_MAX_SET_BYTES'));
  if (!Number.isSafeInteger(lambdaMaxSetBytes) || lambdaMaxSetBytes <= 0) {
    throw new Error('LAMBDA_MAX_SET_BYTES must be a positive whole number');
  }
  return {
    jobQueue: required('CONVERTER_JOB_QUEUE'),
    jobDefinition: required('CONVERTER_JOB_DEFINITION'),
    lambdaMaxSetBytes,
  };
}

/**
 * The converter container's command, from the job's parameters: the image to convert. Batch
 * substitutes `Ref::` names from SubmitJob's parameters; the entrypoint reads the image id.
 */
export const CONVERTER_JOB_COMMAND: readonly string[] = ['Ref::imageId'];

export const CONTAINER_QUEUED_DETAIL =
  'Waiting for the converter container, which takes large sets, pictures and slides';

let batchClient: BatchClient | undefined;

/**
 * Hands an image to the converter container: one Batch job named by the image id, with the image
 * as its parameter, recorded on the image by a conditional write. An image that already names a
 * job gets no second one; if a retry submits again before the first job is recorded, only the job
 * that the image names, or that claims it first, may write (see `moveImage`'s guard).
 */
export async function submitConverterJob(
  image: ImageRecord,
  settings: ConverterJobSettings,
  why: string,
): Promise<void> {
  if (image.converterJobId) {
    logger.info('image already with the converter container', { converterJobId: image.converterJobId });
    return;
  }
  batchClient ??= new BatchClient({});
  const submitted = await batchClient.send(
    new SubmitJobCommand({
      jobName: image.id,
      jobQueue: settings.jobQueue,
      jobDefinition: settings.jobDefinition,
      parameters: { imageId: image.id },
    }),
  );
  const recorded = await moveImage(
    image.id,
    ['Queued', 'Started'],
    { status: image.status, statusDetail: CONTAINER_QUEUED_DETAIL, converterJobId: submitted.jobId },
    { converterJobId: null },
  );
  logger.info('image sent to the converter container', { converterJobId: submitted.jobId, why, recorded });
}
