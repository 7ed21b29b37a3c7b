import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { convertImage } from '../shared/images/convert-image';
import { logger } from '../shared/logger';
import { ConversionMessage } from '../shared/queues';

const bucket = process.env.IMAGING_BUCKET;

/**
 * Consumes the conversion queue. A message whose conversion throws is reported as failed, so
 * SQS offers it again and, after the queue's last try, moves it to the dead-letter queue.
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
    try {
      const message = JSON.parse(record.body) as ConversionMessage;
      await convertImage(message.imageId, bucket);
    } catch (err) {
      logger.error('conversion attempt failed; the queue will retry', { error: err as Error });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}
