import type { SQSEvent } from 'aws-lambda';
import { failUnconvertedImage } from '../mark-image-failed';
import { backgroundHandler } from '../../core/background-handler';
import { logger } from '../../core/logger';
import { ConversionMessage } from '../../contracts/conversion-queue';
import { parseEnvironment } from '../../contracts/handler-environment';
import { backgroundFunction } from './function';

parseEnvironment(backgroundFunction);

/**
 * Consumes the conversion dead-letter queue: an image whose conversion failed on every try is
 * marked Failed with that reason, so it never stays Queued in silence. Its raw uploads stay.
 */
async function failUnconvertedImages(event: SQSEvent): Promise<void> {
  for (const record of event.Records) {
    const { imageId } = JSON.parse(record.body) as ConversionMessage;
    const moved = await failUnconvertedImage(
      imageId,
      'Conversion failed on every try; the files are kept, and the platform team has been alerted',
    );
    logger.warn('image failed after every conversion try', { imageId, moved });
  }
}

export const handler = backgroundHandler(failUnconvertedImages);
