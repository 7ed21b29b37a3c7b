import * as z from 'zod/mini';
import { settingsGroup, text, wholeNumber } from './settings';

/** A value as the image had it, which may be empty (an image without USER). */
const recorded = z.string();

/**
 * What the job runner is told by the platform, besides the job's manifest: how long an algorithm
 * has between SIGTERM and SIGKILL (set by its job definition), and the per-job key it signs its
 * result record with (set at submission, seen by the runner only).
 */
export const RUNNER_GRACE = settingsGroup('the grace period', { graceSeconds: wholeNumber });
export const RESULT_SIGNING = settingsGroup('the result signing key', { resultSigningKey: text });

/**
 * What the runner stores of /output, from the configuration, given to each job with its key: files
 * in one image output's folder (grand-challenge's own limit, one page of an S3 listing), and files
 * and bytes in all, which protect storage and the size of the result record. A limit that is hit
 * fails the job with a reason naming its configuration key.
 */
export const OUTPUT_LIMITS = settingsGroup('the output limits', {
  outputFilesPerImageFolder: wholeNumber,
  outputFiles: wholeNumber,
  outputBytes: wholeNumber,
});

/**
 * How much the algorithm may write to its own root file system in one job, from the
 * configuration. On Batch the instance's Docker enforces it (docs/algorithm-compute.md); the
 * runner names it when the algorithm ran out of room. Local mode enforces it by measuring.
 */
export const WRITABLE_ROOT = settingsGroup('the writable root limit', { writableRootBytes: wholeNumber });

/**
 * What the runner layer records of the image it is added to, as the image's own variables: its
 * ENTRYPOINT, CMD and ENV as JSON lists, its USER (as `uid:gid`, resolved in the image's own
 * /etc/passwd and /etc/group when the layer is built) and working directory, and the runner's own
 * Node (a JSON list: loader, arguments, binary). Activation reads the recorded USER from the
 * image's configuration; the runner reads all of it when the job starts.
 */
export const RUNNER_LAYER = settingsGroup('the runner layer', {
  algorithmEntrypoint: recorded,
  algorithmCmd: recorded,
  algorithmUser: recorded,
  algorithmWorkdir: recorded,
  algorithmEnv: recorded,
  runnerNode: text,
});
