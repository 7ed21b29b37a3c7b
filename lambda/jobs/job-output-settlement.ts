import { logger } from '../core/logger';
import { ImageRecord } from '../images/image-record';
import { PARSING_OUTPUTS, TERMINAL_SEQUENCE } from './job-record';
import { moveJob } from './job-move';
import { getJob, removePendingImage } from './job-store';

/** An output image the converter has ended. */
export type SettledImage = Pick<ImageRecord, 'id' | 'name' | 'status' | 'statusDetail' | 'errors'> & {
  readonly jobOutput: NonNullable<ImageRecord['jobOutput']>;
};

/** Concurrent conversions of one job's outputs can each lose a write to another only so often. */
const MAX_TRIES = 10;

/**
 * Settles on its job an output image the converter has ended, as grand-challenge imports a job's
 * outputs before it ends the job: a failed conversion ends the job `Failed` without outputs, the
 * last pending image converted ends it `Succeeded`, any other is taken off the pending set. Each
 * is one conditional write on the job, taken only while the job is `Parsing outputs` and still
 * waits for this image, so a repeated or late message, or one after a cancel, changes nothing.
 * The write that ends the job gives its slots back.
 */
export async function settleOutputImage(image: SettledImage): Promise<void> {
  if (image.status !== 'Succeeded' && image.status !== 'Failed') return;
  const jobId = image.jobOutput.jobId;
  for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
    const job = await getJob(jobId);
    if (job?.status !== PARSING_OUTPUTS || !job.pendingImages?.has(image.id)) {
      logger.info('output image already settled on its job, or the job has ended', {
        jobId,
        jobStatus: job?.status,
      });
      return;
    }
    const last = job.pendingImages.size === 1;
    if (image.status === 'Failed') {
      const socket = job.outputs.find((output) => output.image === image.id)?.socket ?? image.name;
      const reason = `output "${socket}" (${image.jobOutput.filename}) could not be converted: ${converterReason(image)}`;
      const ended = await moveJob(
        jobId,
        { status: 'Failed', sequence: TERMINAL_SEQUENCE, statusReason: reason, fields: { outputs: [] } },
        { settling: { imageId: image.id, last: false } },
      );
      if (ended) return logger.info('job failed: an output image could not be converted', { jobId });
    } else if (last) {
      const ended = await moveJob(
        jobId,
        { status: 'Succeeded', sequence: TERMINAL_SEQUENCE },
        { settling: { imageId: image.id, last: true } },
      );
      if (ended) return logger.info('job succeeded: its output images are converted', { jobId });
    } else if (await removePendingImage(jobId, image.id)) {
      return;
    }
    // Another output's conversion, or a cancel, wrote the job between the read and the write.
  }
  throw new Error(`job ${jobId} kept changing while its output image ${image.id} was settled`);
}

/** Why the converter made nothing: its reasons per file, or the image's detail when it gave none. */
function converterReason(image: SettledImage): string {
  const reasons = [...new Set(image.errors.map((error) => error.reason))];
  return reasons.length > 0 ? reasons.join('; ') : image.statusDetail;
}
