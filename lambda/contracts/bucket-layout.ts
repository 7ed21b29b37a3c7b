import { settingsGroup, text } from './settings';

/**
 * Where things live in the imaging bucket. The data stack's lifecycle rules and every handler
 * that reads or writes objects use these names, so they cannot drift apart.
 */

/** The bucket itself, named to every handler that touches its objects. */
export const IMAGING_BUCKET = settingsGroup('the imaging bucket', { imagingBucket: text });

/** Raw files as uploaded, under `uploads/<userId>/<uploadId>/`. */
export const UPLOADS_PREFIX = 'uploads/';

/** Where one uploaded file lives; the file name is kept so converters see what the user sent. */
export function uploadObjectKey(userId: string, uploadId: string, filename: string): string {
  return `${UPLOADS_PREFIX}${userId}/${uploadId}/${filename}`;
}

/** Converted images, under `images/<imageId>/`. */
export const IMAGES_PREFIX = 'images/';

/** Everything of one job: its input manifest, and the outputs the runner stores. */
export const JOBS_PREFIX = 'jobs/';

/** The manifest the job runner reads: the algorithm version, its interface and the inputs. */
export function jobManifestKey(jobId: string): string {
  return `${JOBS_PREFIX}${jobId}/inputs.json`;
}

/**
 * The job's input files, copied here before it runs, so that the runner reads nothing outside
 * its job's folder.
 */
export function jobInputsPrefix(jobId: string): string {
  return `${JOBS_PREFIX}${jobId}/inputs/`;
}

/** Where one input goes: its path under /input. */
export function jobInputKey(jobId: string, relativePath: string): string {
  return `${jobInputsPrefix(jobId)}${relativePath}`;
}

/** What the runner stores from the algorithm's `/output`. */
export function jobOutputsPrefix(jobId: string): string {
  return `${JOBS_PREFIX}${jobId}/outputs/`;
}

/** Where one output goes: its path under /output. */
export function jobOutputKey(jobId: string, relativePath: string): string {
  return `${jobOutputsPrefix(jobId)}${relativePath}`;
}

/** The runner's signed result record: return code, duration and outputs. */
export function jobResultKey(jobId: string): string {
  return `${JOBS_PREFIX}${jobId}/result.json`;
}

/**
 * Tag set on a raw upload once its conversion succeeded; a lifecycle rule expires tagged
 * objects, so a raw upload is removed even if the converter's own delete failed.
 */
export const CONVERSION_TAG = { key: 'conversion', succeeded: 'succeeded' } as const;
