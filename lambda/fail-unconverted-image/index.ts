import type { SQSEvent } from 'aws-lambda';
import { moveImage } from '../shared/images/image-store';
import { logger } from '../shared/logger';
import { ConversionMessage } from '../shared/queues';

/**
 * Consumes the conversion dead-letter queue: an image whose conversion failed on every try is
 * marked Failed with that reason, so it never stays Queued in silence. Its raw uploads stay.
 */
export async function handler(event: SQSEvent): Promise<void> {
  for (const record of event.Records) {
    const { imageId } = JSON.parse(record.body) as ConversionMessage;
    const moved = await moveImage(imageId, ['Queued', 'Started'], {
      status: 'Failed',
      statusDetail:
        'Conversion failed on every try; the files are kept, and the platform team has been alerted',
    });
    logger.warn('image failed after every conversion try', { imageId, moved });
  }
}
