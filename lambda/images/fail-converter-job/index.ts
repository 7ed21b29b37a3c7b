import { failUnconvertedImage } from '../mark-image-failed';
import { converterFailure } from '../converter-failure';
import { BatchJobStateChange } from '../../contracts/batch-job-state-change';
import { parseEnvironment } from '../../contracts/handler-environment';
import { backgroundHandler } from '../../core/background-handler';
import { recordMetric } from '../../core/business-metrics';
import { logger } from '../../core/logger';
import { backgroundFunction } from './function';

parseEnvironment(backgroundFunction);

/**
 * EventBridge `Batch Job State Change` to FAILED on the converter queue: the job (named by the
 * image id) ended without converting, after its attempts, so the image is marked Failed with
 * Batch's reason, but only while this job holds it, and counted by the reason's category.
 * Repeated events change nothing.
 */
async function failConverterJob(event: BatchJobStateChange): Promise<void> {
  const detail = event.detail;
  const imageId = detail.jobName ?? '';
  logger.appendKeys({ imageId, converterJobId: detail.jobId, batchStatus: detail.status });
  if (detail.status !== 'FAILED') {
    logger.warn('event for a converter job that did not fail; ignored');
    return;
  }
  const failure = converterFailure(detail);
  const moved = await failUnconvertedImage(
    imageId,
    `The converter container failed: ${failure.description}; the files are kept, and the platform team has been alerted`,
    detail.jobId,
  );
  if (moved) recordMetric('ConversionsFailed', 1, { Reason: failure.reason });
  logger.warn('converter job failed', { moved, statusReason: detail.statusReason });
}

export const handler = backgroundHandler(failConverterJob);
