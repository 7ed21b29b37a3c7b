import { AlgorithmInterface, Socket } from '../algorithms/algorithm-record';
import type { CopySourceObject } from '../core/object-copy';
import type { ManifestPrediction } from './predictions-json';
import type { ManifestModel } from './job-model';

/** One input as the runner places it: a file copied under the job's prefix, or a JSON value. */
export interface ManifestInput {
  readonly socket: Socket;
  /** Where it goes under /input: `<relativePath>` for values and files, `<relativePath>/<name>` for images. */
  readonly path: string;
  /** The copy in the imaging bucket under `jobs/<id>/inputs/`, for images and files. */
  readonly key?: string;
  /**
   * What the staging job copies to `key` before the job runs: the image's or upload's object as
   * it was at submission (its version, size and ETag). The runner never reads it.
   */
  readonly source?: CopySourceObject;
  readonly value?: unknown;
  /** The image given, for inputs.json. */
  readonly image?: { readonly pk: string; readonly name: string };
  /** The upload given, for inputs.json. */
  readonly file?: string;
}

/**
 * What submit-job writes to `jobs/<id>/inputs.json`, and the staging job and the job runner read:
 * everything needed to run the job without reading anything else of the platform.
 */
export interface JobManifest {
  readonly jobId: string;
  readonly image: string;
  readonly timeLimitSeconds: number;
  readonly memoryGb: number;
  readonly gpu: boolean;
  readonly interface: AlgorithmInterface;
  readonly inputs: readonly ManifestInput[];
  /** The jobs it evaluates, for /input/predictions.json and /input/<job id>/output/. */
  readonly predictions?: readonly ManifestPrediction[];
  /** The algorithm's active model at submission, placed at /opt/ml/model; absent without one. */
  readonly model?: ManifestModel;
}

/**
 * A path under /input or /output that stays inside it: relative, no `.` or `..` segments, no
 * empty segments, printable. The API checks sockets when they are made; the runner checks again.
 */
export function isContainedPath(path: string): boolean {
  return (
    path.length > 0 &&
    path.length <= 1024 &&
    !path.startsWith('/') &&
    ![...path].some((c) => c < ' ' || c === '\\') &&
    path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..')
  );
}
