import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** One file the algorithm wrote under /output, as the runner stored it. */
export interface StoredOutput {
  /** Path under /output. */
  readonly path: string;
  readonly key: string;
  readonly bytes: number;
  readonly sha256: string;
}

/**
 * What the job runner reports after the algorithm ran (the contract's result record, with what
 * the platform adds): its exit code, how long it ran, whether the time limit stopped it, its last
 * line on stderr, the outputs stored, and the runner's own failure if there was one.
 */
export interface ResultRecord {
  readonly jobId: string;
  readonly returnCode: number;
  /** Seconds the algorithm ran. */
  readonly execDuration: number;
  readonly timedOut: boolean;
  readonly lastStderrLine?: string;
  readonly outputs: readonly StoredOutput[];
  /**
   * Why the runner itself failed the job (an output limit, a USER it would not run as, storage),
   * when it did: the job ends with this reason, never the algorithm's, and stores no outputs.
   * `returnCode` is then the algorithm's if it ran, -1 if it never started.
   */
  readonly runnerFailure?: string;
  /**
   * A limit the algorithm ran into that its exit code does not tell (its writable root full),
   * named for the job's reason.
   */
  readonly limitReached?: string;
}

/** A new per-job key: the runner signs with it, the state handler verifies with it. */
export function newResultSigningKey(): string {
  return randomBytes(32).toString('base64url');
}

export function signResult(record: ResultRecord, key: string): string {
  const body = JSON.stringify(record);
  return JSON.stringify({ record: body, signature: hmac(body, key) });
}

/**
 * The record of a stored result, if its HMAC-SHA256 matches the job's key and it names this job;
 * anything else (tampered, re-signed with another key, another job's record, not JSON) is refused.
 */
export function verifyResult(stored: string, key: string, jobId: string): ResultRecord {
  let envelope: { record?: unknown; signature?: unknown };
  try {
    envelope = JSON.parse(stored) as typeof envelope;
  } catch {
    throw new ResultRecordError('the result record is not JSON');
  }
  if (typeof envelope.record !== 'string' || typeof envelope.signature !== 'string') {
    throw new ResultRecordError('the result record has no signed body');
  }
  const expected = Buffer.from(hmac(envelope.record, key));
  const given = Buffer.from(envelope.signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new ResultRecordError("the result record's signature does not match");
  }
  const record = JSON.parse(envelope.record) as ResultRecord;
  if (record.jobId !== jobId) throw new ResultRecordError(`the result record is for job ${record.jobId}`);
  return record;
}

export class ResultRecordError extends Error {}

function hmac(body: string, key: string): string {
  return createHmac('sha256', key).update(body).digest('base64url');
}
