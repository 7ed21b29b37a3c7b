import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as path from 'node:path';
import { IMAGING_BUCKET } from '../../contracts/bucket-layout';
import { CONVERSION_QUEUE_URL, ConversionMessage } from '../../contracts/conversion-queue';
import { CONVERSION_SCRATCH, CONVERTER_JOBS } from '../../contracts/converter-jobs';
import { parseEnvironment } from '../../contracts/handler-environment';
import { backgroundHandler } from '../../core/background-handler';
import { logger } from '../../core/logger';
import { submitConverterJob } from '../converter-jobs';
import { convertImage } from '../image-conversion';
import { removeFolder } from '../upload-set-files';
import { removeConvertedUploads } from '../upload-removal';
import { backgroundFunction } from './function';

parseEnvironment(backgroundFunction);
const { imagingBucket } = IMAGING_BUCKET.read();
const converterJobs = CONVERTER_JOBS.read();
const { conversionQueueUrl } = CONVERSION_QUEUE_URL.read();
const sqs = new SQSClient({});
/** Where upload sets are downloaded; a warm function reuses /tmp, so it is emptied for each message. */
const workRoot = path.join(CONVERSION_SCRATCH.read().conversionWorkDir, 'image-conversions');

/**
 * Consumes the conversion queue: converts small sets itself and sends large sets, pictures and
 * slides to the converter container. Once it converted an image it queues the removal of its raw
 * uploads, which a later delivery does: its own message is released as soon as the image is
 * recorded, so the next image never waits for deletions. A message whose conversion, submission
 * or removal throws is
 * reported as failed, so SQS offers it again and, after the queue's last try, moves it to the
 * dead-letter queue.
 */
async function convertQueuedImages(event: SQSEvent): Promise<SQSBatchResponse> {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    logger.resetKeys();
    logger.appendKeys({
      messageId: record.messageId,
      receiveCount: record.attributes?.ApproximateReceiveCount,
    });
    // Files left by an invocation that timed out would otherwise fill /tmp.
    removeFolder(workRoot);
    try {
      const message = JSON.parse(record.body) as ConversionMessage;
      if (message.removeUploads) {
        await removeConvertedUploads(message.imageId, imagingBucket);
        continue;
      }
      await convertImage(message.imageId, imagingBucket, {
        workRoot,
        removeUploads: queueUploadRemoval,
        container: {
          lambdaMaxSetBytes: converterJobs.lambdaMaxSetBytes,
          submit: (image, why) => submitConverterJob(image, converterJobs, why),
        },
      });
    } catch (err) {
      logger.error('conversion attempt failed; the queue will retry', { error: err as Error });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}

async function queueUploadRemoval(imageId: string): Promise<void> {
  const message: ConversionMessage = { imageId, removeUploads: true };
  await sqs.send(
    new SendMessageCommand({ QueueUrl: conversionQueueUrl, MessageBody: JSON.stringify(message) }),
  );
}

export const handler = backgroundHandler(convertQueuedImages);
