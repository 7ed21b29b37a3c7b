import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as os from 'node:os';
import * as path from 'node:path';
import { convertImage } from '../image-conversion';
import { converterJobSettings, submitConverterJob } from '../converter-jobs';
import { removeFolder } from '../upload-set-files';
import { logger } from '../../core/logger';
import { ConversionMessage } from '../../contracts/conversion-queue';

const bucket = process.env.IMAGING_BUCKET;
const settings = converterJobSettings();
/** Where upload sets are downloaded; a warm function reuses /tmp, so it is emptied for each message. */
const workRoot = path.join(process.env.CONVERSION_WORK_DIR ?? os.tmpdir(), 'image-conversions');

/**
 * Consumes the conversion queue: converts small sets itself and sends large sets, pictures and
 * slides to the converter container. A message whose conversion or submission throws is
 * reported as failed, so SQS offers it again and, after the queue's last try, moves it to the
 * dead-letter queue.
 */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  if (!bucket) throw new Error('IMAGING_BUCKET is not set');
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
      await convertImage(message.imageId, bucket, {
        workRoot,
        container: {
          lambdaMaxSetBytes: settings.lambdaMaxSetBytes,
          submit: (image, why) => submitConverterJob(image, settings, why),
        },
      });
    } catch (err) {
      logger.error('conversion attempt failed; the queue will retry', { error: err as Error });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}
