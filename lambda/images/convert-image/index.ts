import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as path from 'node:path';
import { IMAGING_BUCKET } from '../../contracts/bucket-layout';
import { ConversionMessage } from '../../contracts/conversion-queue';
import { CONVERSION_SCRATCH, CONVERTER_JOBS } from '../../contracts/converter-jobs';
import { parseEnvironment } from '../../contracts/handler-environment';
import { backgroundHandler } from '../../core/background-handler';
import { logger } from '../../core/logger';
import { submitConverterJob } from '../converter-jobs';
import { convertImage } from '../image-conversion';
import { removeFolder } from '../upload-set-files';
import { backgroundFunction } from './function';

parseEnvironment(backgroundFunction);
const { imagingBucket } = IMAGING_BUCKET.read();
const converterJobs = CONVERTER_JOBS.read();
/** Where upload sets are downloaded; a warm function reuses /tmp, so it is emptied for each message. */
const workRoot = path.join(CONVERSION_SCRATCH.read().conversionWorkDir, 'image-conversions');

/**
 * Consumes the conversion queue: converts small sets itself and sends large sets, pictures and
 * slides to the converter container. A message whose conversion or submission throws is
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
      await convertImage(message.imageId, imagingBucket, {
        workRoot,
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

export const handler = backgroundHandler(convertQueuedImages);
