import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Socket } from '../algorithms/algorithm-record';
import { ImageRecord, QUEUED_DETAIL } from '../images/image-record';
import { putImage } from '../images/image-store';
import { nameBasedUuid } from '../core/name-based-uuid';
import { CONVERSION_QUEUE_URL, ConversionMessage } from '../contracts/conversion-queue';
import { JobOutput, JobRecord } from './job-record';
import { StoredOutput } from './result-record';

let sqs: SQSClient | undefined;

/**
 * Records each image an algorithm made as an image of the job's owner, to be validated and
 * converted like an upload, with a signed download URL once it succeeded. The image's id follows
 * from the job and the socket, so a repeated event records no second image. A `.mhd` output goes
 * with the data file its header names (`dataFiles`, by socket). Returns the outputs with the
 * image each becomes; `queueConversions` sends them to the converter once the job waits for them.
 */
export async function registerOutputImages(
  job: Pick<JobRecord, 'id' | 'owner'>,
  sockets: readonly Socket[],
  outputs: readonly JobOutput[],
  stored: readonly StoredOutput[],
  dataFiles: Readonly<Record<string, StoredOutput>> = {},
): Promise<JobOutput[]> {
  const queued: JobOutput[] = [];
  for (const output of outputs) {
    const isImage = sockets.find((s) => s.slug === output.socket)?.kind === 'image';
    const file = stored.find((s) => s.key === output.key);
    if (!isImage || !file) {
      queued.push(output);
      continue;
    }
    const id = nameBasedUuid(job.id, output.socket);
    const filename = baseName(file.path);
    const data = dataFiles[output.socket];
    const now = new Date().toISOString();
    const image: ImageRecord = {
      id,
      owner: job.owner,
      name: filename,
      status: 'Queued',
      statusDetail: QUEUED_DETAIL,
      fileCount: 0,
      jobOutput: {
        jobId: job.id,
        key: file.key,
        filename,
        size: file.bytes,
        ...(data && { dataFile: { key: data.key, filename: baseName(data.path), size: data.bytes } }),
      },
      errors: [],
      metadata: {},
      createdAt: now,
      updatedAt: now,
    };
    await putImage(image).catch((err: Error) => {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    });
    queued.push({ ...output, image: id });
  }
  return queued;
}

/**
 * Queues the output images for the converter. Only after the job records them as pending: a
 * conversion that finished first would find no job waiting for it. A repeated message converts
 * nothing twice (see `convertImage`).
 */
export async function queueConversions(imageIds: Iterable<string>): Promise<void> {
  for (const imageId of imageIds) {
    const message: ConversionMessage = { imageId };
    await (sqs ??= new SQSClient({})).send(
      new SendMessageCommand({
        QueueUrl: CONVERSION_QUEUE_URL.read().conversionQueueUrl,
        MessageBody: JSON.stringify(message),
      }),
    );
  }
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
