import type { SQSEvent } from 'aws-lambda';
import { failUnconvertedImage } from '../mark-image-failed';
import { backgroundHandler } from '../../core/background-handler';
import { recordMetric } from '../../core/business-metrics';
import { logger } from '../../core/logger';
import { ConversionMessage } from '../../contracts/conversion-queue';
import { parseEnvironment } from '../../contracts/handler-environment';
import { backgroundFunction } from './function';

parseEnvironment(backgroundFunction);

/**
 * Consumes the conversion dead-letter queue: an image whose conversion failed on every try is
 * marked Failed with that reason, so it never stays Queued in silence. Its raw uploads stay. A
 * removal of a converted image's uploads that failed on every try leaves them, still counted in
 * the quota, and is logged for the platform team.
 */
async function failUnconvertedImages(event: SQSEvent): Promise<void> {
  for (const record of event.Records) {
    const { imageId, removeUploads } = JSON.parse(record.body) as ConversionMessage;
    if (removeUploads) {
      logger.error('raw uploads of a converted image not removed after every try', { imageId });
      continue;
    }
    const moved = await failUnconvertedImage(
      imageId,
      'Conversion failed on every try; the files are kept, and the platform team has been alerted',
    );
    if (moved) recordMetric('ConversionsFailed', 1, { Reason: 'RetriesExhausted' });
    logger.warn('image failed after every conversion try', { imageId, moved });
  }
}

export const handler = backgroundHandler(failUnconvertedImages);
