import type { JOB_STATUSES } from './schemas';

export type JobStatus = (typeof JOB_STATUSES)[number];

export interface JobInput {
  readonly socket: string;
  readonly image?: string;
  readonly value?: unknown;
  readonly file?: string;
}

/**
 * An output as the job runner records it: a JSON value, or a file in the imaging bucket; an
 * image output also names the image the converter makes of it.
 */
export interface JobOutput {
  readonly socket: string;
  readonly value?: unknown;
  readonly key?: string;
  readonly image?: string;
}

/** A job as stored in the jobs table. */
export interface JobRecord {
  readonly id: string;
  readonly owner: string;
  readonly algorithmId: string;
  readonly algorithmVersionId: string;
  readonly image: string;
  /** The kind of Batch queue it is submitted to: its algorithm's `gpu` decides. */
  readonly queue: 'gpu' | 'cpu';
  readonly interfaceIndex: number;
  readonly inputs: readonly JobInput[];
  /** The jobs whose outputs this job reads, as an evaluation (see job-predictions.ts). */
  readonly predictions?: readonly string[];
  readonly outputs: readonly JobOutput[];
  readonly status: JobStatus;
  readonly statusReason?: string;
  /**
   * Orders state changes: attempts completed x 10 + the state's rank. A change is written only
   * if it moves the sequence forward, so late or repeated events cannot move a job backwards.
   */
  readonly sequence: number;
  /** While `Parsing outputs`: the output images whose conversion the job still waits for. */
  readonly pendingImages?: ReadonlySet<string>;
  /** Whether the job still counts against the active-job limits. */
  readonly holdsSlots: boolean;
  readonly batchJobId?: string;
  /** The Batch job that copies its inputs under its folder before it runs. */
  readonly inputStagingBatchJobId?: string;
  readonly logStreamName?: string;
  readonly inputManifestKey: string;
  /** The algorithm's model the job runs with, as it was active at submission. */
  readonly model?: { readonly id: string; readonly sha256: string };
  /** The per-job key the runner signs its result record with; never shown by the API. */
  readonly resultSigningKey: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly startedAt?: string;
  readonly stoppedAt?: string;
}

/**
 * Room a job's item keeps, besides its inputs, for every other field at its largest: ids, the
 * image, state and times, a reason of `MAX_STATUS_REASON_CHARS`, and 32 outputs kept as files
 * (with the images still pending for them).
 * JSON outputs are kept in the item only as far as it then has room (see `jobOutcome`).
 */
export const JOB_ITEM_RESERVE_BYTES = 16 * 1024;

/** A status reason is cut to this many characters (at most 6 KB of UTF-8). */
export const MAX_STATUS_REASON_CHARS = 2000;

export const TERMINAL_STATUSES: readonly JobStatus[] = ['Succeeded', 'Failed', 'Cancelled'];

/** Terminal states sort after every attempt's progress. */
export const TERMINAL_SEQUENCE = 1_000_000;

/**
 * A job whose algorithm succeeded waits here until its image outputs are converted, as on
 * grand-challenge: after every attempt's states, before the terminal ones, so a cancel still wins.
 */
export const PARSING_OUTPUTS = 'Parsing outputs' satisfies JobStatus;
export const PARSING_OUTPUTS_SEQUENCE = TERMINAL_SEQUENCE - 1;

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** What the API shows; `outputUrls` maps output keys to signed URLs where the caller may read them. */
export function jobView(
  job: JobRecord,
  outputUrls: ReadonlyMap<string, { url: string; expiresAt: string }> = new Map(),
) {
  return {
    id: job.id,
    algorithm: job.algorithmId,
    algorithmVersion: job.algorithmVersionId,
    ...(job.model && { model: job.model }),
    status: job.status,
    ...(job.statusReason && { statusReason: job.statusReason }),
    inputs: job.inputs,
    ...(job.predictions && { predictions: job.predictions }),
    outputs: job.outputs.map((output) => {
      const signed = output.key ? outputUrls.get(output.key) : undefined;
      return {
        socket: output.socket,
        ...(output.value !== undefined && { value: output.value }),
        ...(output.image && { image: output.image }),
        ...(signed && { url: signed.url, urlExpiresAt: signed.expiresAt }),
      };
    }),
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    ...(job.startedAt && { startedAt: job.startedAt }),
    ...(job.stoppedAt && { stoppedAt: job.stoppedAt }),
  };
}
