import { settingsGroup, text } from './settings';

/**
 * Where things live in the imaging bucket. The data stack's lifecycle rules and every handler
 * that reads or writes objects use these names, so they cannot drift apart.
 *
 * Keys are made of ids and names the platform chooses, never of names a user or an algorithm
 * chooses (file names, paths under /output): those may hold any character and are as long as 255
 * characters of up to 4 bytes each, which would make keys past S3's 1,024 bytes. Such names are
 * data, kept in the records that point at the objects.
 */

/** The bucket itself, named to every handler that touches its objects. */
export const IMAGING_BUCKET = settingsGroup('the imaging bucket', { imagingBucket: text });

/** Raw files as uploaded, one object per upload: `uploads/<userId>/<uploadId>`. */
export const UPLOADS_PREFIX = 'uploads/';

/** Where one uploaded file lives; its name is in the upload record, where converters read it. */
export function uploadObjectKey(userId: string, uploadId: string): string {
  return `${UPLOADS_PREFIX}${userId}/${uploadId}`;
}

/** Converted images, under `images/<imageId>/`. */
export const IMAGES_PREFIX = 'images/';

/** The formats a converted image is stored in. */
export type ConvertedFormat = 'mha' | 'tif';

/**
 * Where a converted image lives: `images/<imageId>/<imageId>.mha` (or `.tif`), named by its id
 * as panimg names its outputs; an algorithm finds it under that name in its input folder.
 */
export function imageObjectKey(imageId: string, format: ConvertedFormat): string {
  return `${IMAGES_PREFIX}${imageId}/${imageId}.${format}`;
}

/** What belongs to an algorithm itself, under `algorithms/<algorithmId>/`. */
export const ALGORITHMS_PREFIX = 'algorithms/';

/**
 * Where a model of an algorithm is kept once its editor created it from an upload: its own copy,
 * so that what becomes of the upload cannot change or lose it.
 */
export function modelObjectKey(algorithmId: string, modelId: string): string {
  return `${ALGORITHMS_PREFIX}${algorithmId}/models/${modelId}.tar.gz`;
}

/** Build contexts as the build pipeline takes them, under `builds/`. */
export const BUILDS_PREFIX = 'builds/';

/**
 * A build's source object: a zip holding the author's archive as one entry
 * (`BUILD_SOURCE_ENTRY`), which the pipeline's source action is overridden with.
 */
export function buildSourceKey(algorithmId: string, buildId: string): string {
  return `${BUILDS_PREFIX}${algorithmId}/${buildId}/source.zip`;
}

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

/** Where the copy of one input file goes, by its position among the job's inputs; the manifest says where it goes under /input. */
export function jobInputKey(jobId: string, position: number): string {
  return `${jobInputsPrefix(jobId)}${position}`;
}

/**
 * Copies of the outputs of the jobs a job evaluates (its predictions), by position: under the
 * job's inputs, the only place its runner reads files from.
 */
export function jobPredictionKey(jobId: string, position: number): string {
  return `${jobInputsPrefix(jobId)}predictions/${position}`;
}

/** The job's copy of its algorithm's model, which the runner extracts at /opt/ml/model. */
export function jobModelKey(jobId: string): string {
  return `${JOBS_PREFIX}${jobId}/model.tar.gz`;
}

/** What the runner stores from the algorithm's `/output`. */
export function jobOutputsPrefix(jobId: string): string {
  return `${JOBS_PREFIX}${jobId}/outputs/`;
}

/** Where one output file goes, by its position among the files stored; the result record says its path under /output. */
export function jobOutputKey(jobId: string, position: number): string {
  return `${jobOutputsPrefix(jobId)}${position}`;
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
