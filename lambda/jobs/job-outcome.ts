import { createHash } from 'node:crypto';
import { schemaMismatch, SocketSchemaError } from '../algorithms/socket-schemas';
import { itemSize, MAX_NESTING_LEVELS, nestingLevels } from '../contracts/dynamodb-item-limits';
import { JobManifest } from './job-manifest';
import { batchFailure, FailedBy } from './job-progress';
import { BatchJobDetail } from '../contracts/batch-job-state-change';
import { JobOutput } from './job-record';
import { ResultRecord, ResultRecordError, StoredOutput, verifyResult } from './result-record';
// Only the header check: the state handler's bundle carries no image readers.
import { checkOutputImage, OUTPUT_IMAGE_HEAD_BYTES } from '@imaging-platform/image-io/output-image-check';

/** JSON outputs are kept in the job record up to this size, and as far as it has room; others stay files. */
const MAX_INLINE_JSON = 256 * 1024;

/**
 * Image outputs the converter accepts, as grand-challenge reads them: MetaImage (`.mha`, or
 * `.mhd` with the data file its header names, `.raw` or `.zraw`) and TIFF.
 */
const IMAGE_FILE = /\.(mha|mhd|tiff?)$/i;

/** How the runner words a failure of its own that it did not choose (containers/jobs/runner/run-job.ts). */
const RUNNER_FAILED = /^the job runner failed: /;

export interface JobOutcome {
  readonly status: 'Succeeded' | 'Failed';
  readonly reason?: string;
  /** Whose failure it was, when the job failed. */
  readonly failedBy?: FailedBy;
  readonly outputs: readonly JobOutput[];
  /** The runner's record of the files it stored, when the job succeeded. */
  readonly stored?: ResultRecord['outputs'];
  /** For an image output that is a `.mhd` header: the stored file that holds its data, by socket. */
  readonly dataFiles?: Readonly<Record<string, StoredOutput>>;
}

/** How the state handler reaches what the runner stored. */
export interface StoredObjects {
  /** An object's text, or undefined when there is none. */
  read(key: string): Promise<string | undefined>;
  /** An object's first bytes (at most as many as it has), or undefined when there is none. */
  head(key: string, bytes: number): Promise<Buffer | undefined>;
}

/**
 * How a job ended, from its terminal Batch event and the runner's result record: the runner's own
 * failure, the contract's reasons for exit codes (137 is memory, the time limit, the last stderr
 * line), a record that is missing or not signed with the job's key, and outputs that do not match
 * the interface (one image per image socket whose header the converter reads, JSON that parses
 * and matches its schema, files present). A failed outcome has no outputs, so nothing of it is
 * registered.
 */
export async function jobOutcome(
  detail: BatchJobDetail,
  job: {
    readonly id: string;
    readonly resultSigningKey: string;
    readonly algorithmId: string;
    readonly algorithmVersionId: string;
  },
  manifest: JobManifest | null,
  stored: StoredObjects,
  resultText: string | undefined,
  inlineRoom: number,
): Promise<JobOutcome> {
  let room = inlineRoom;
  // What the algorithm did or wrote is its own failure; what the platform's runner did not do is not.
  const failed = (reason: string, failedBy: FailedBy = 'algorithm'): JobOutcome => ({
    status: 'Failed',
    reason,
    failedBy,
    outputs: [],
  });
  if (resultText === undefined) {
    if (detail.status !== 'FAILED') return failed('the job runner left no result record', 'platform');
    const failure = batchFailure(detail);
    return failed(failure.reason, failure.failedBy);
  }
  let record: ResultRecord;
  try {
    record = verifyResult(resultText, job.resultSigningKey, job.id);
  } catch (err) {
    if (err instanceof ResultRecordError) {
      return failed(`${err.message}; the outputs were discarded`, 'platform');
    }
    throw err;
  }
  // The runner's own failure (an output limit, a USER it would not run as, storage) is the reason,
  // whatever the algorithm did. What it refused is the algorithm's; what failed it (it says "the job
  // runner failed: ...") is the platform's.
  if (record.runnerFailure !== undefined) {
    return failed(record.runnerFailure, RUNNER_FAILED.test(record.runnerFailure) ? 'platform' : 'algorithm');
  }
  if (record.limitReached !== undefined) return failed(record.limitReached);
  if (record.timedOut) return failed('time limit exceeded');
  if (record.returnCode === 137) return failed('the algorithm exceeded its memory limit');
  if (record.returnCode !== 0) {
    return failed(record.lastStderrLine ?? `the algorithm exited with code ${record.returnCode}`);
  }
  if (!manifest) return failed("the job's manifest is missing", 'platform');
  const outputs: JobOutput[] = [];
  const dataFiles: Record<string, StoredOutput> = {};
  for (const socket of manifest.interface.outputs) {
    const where = `output "${socket.slug}" (/output/${socket.relativePath})`;
    if (socket.kind === 'image') {
      const folder = `${socket.relativePath.replace(/\/+$/, '')}/`;
      const inFolder = record.outputs.filter((o) => o.path.startsWith(folder));
      const images = inFolder.filter((o) => IMAGE_FILE.test(o.path));
      if (images.length !== 1) {
        return failed(
          `${where} holds ${images.length} images; exactly one .mha, .mhd (with its data file) or .tif is expected`,
        );
      }
      const image = images[0];
      const name = image.path.slice(folder.length);
      const head = await stored.head(image.key, Math.min(OUTPUT_IMAGE_HEAD_BYTES, image.bytes));
      if (head === undefined) return failed(`${where} changed after the runner stored it`, 'platform');
      // The data file of a .mhd sits beside it; the header names it by plain name.
      const besideImage = image.path.slice(0, image.path.lastIndexOf('/') + 1);
      const sibling = (file: string) => inFolder.find((o) => o.path === `${besideImage}${file}`);
      const check = checkOutputImage({
        name,
        head,
        bytes: image.bytes,
        sizeOfSibling: (file) => sibling(file)?.bytes,
      });
      if (check.problem) return failed(`${where}: ${name} cannot be converted: ${check.problem}`);
      const data = check.dataFile === undefined ? undefined : sibling(check.dataFile);
      if (data) dataFiles[socket.slug] = data;
      outputs.push({ socket: socket.slug, key: image.key });
      continue;
    }
    const file = record.outputs.find((o) => o.path === socket.relativePath);
    if (!file) return failed(`${where} was not written`);
    if (socket.kind !== 'json' || file.bytes > MAX_INLINE_JSON) {
      outputs.push({ socket: socket.slug, key: file.key });
      continue;
    }
    const text = await stored.read(file.key);
    if (text === undefined || createHash('sha256').update(text).digest('hex') !== file.sha256) {
      return failed(`${where} changed after the runner stored it`, 'platform');
    }
    let value: unknown;
    try {
      value = parseLenientJson(text);
    } catch (err) {
      return failed(`${where} is not JSON: ${(err as Error).message}`);
    }
    if (socket.schema) {
      let mismatch: string | undefined;
      try {
        mismatch = schemaMismatch(`${job.algorithmId}/${job.algorithmVersionId}`, socket.schema, value);
      } catch (err) {
        if (!(err instanceof SocketSchemaError)) throw err;
        return failed(`the schema of ${where} cannot check values: ${err.message}`);
      }
      if (mismatch) return failed(`${where} does not match its schema: ${mismatch}`);
    }
    // In the item: within the outputs list, in the output's map.
    const inline = { socket: socket.slug, value };
    const cost = itemSize({ output: inline });
    if (cost <= room && nestingLevels(value) <= MAX_NESTING_LEVELS - 2) {
      outputs.push(inline);
      room -= cost;
    } else {
      outputs.push({ socket: socket.slug, key: file.key });
    }
  }
  return { status: 'Succeeded', outputs, stored: record.outputs, dataFiles };
}

/** JSON as Python writes it: NaN, Infinity and -Infinity outside strings become null, as the contract says. */
export function parseLenientJson(text: string): unknown {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    const special = text.slice(i).match(/^-?(NaN|Infinity)/);
    if (special) {
      out += 'null';
      i += special[0].length - 1;
      continue;
    }
    out += c;
  }
  return JSON.parse(out);
}
