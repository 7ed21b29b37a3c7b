import { S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline, Transform } from 'node:stream';
import { jobOutputKey } from '../../../lambda/contracts/bucket-layout';
import { UPLOAD_PART_BYTES, uploadObject } from '../../../lambda/core/object-upload';
import { OUTPUT_LIMITS } from '../../../lambda/contracts/job-runner';
import { Settings } from '../../../lambda/contracts/settings';
import { StoredOutput } from '../../../lambda/jobs/result-record';
import { RunnerRefusal } from './runner-refusal';

/** What the runner stores of /output, from the configuration (OUTPUT_LIMITS). */
export type OutputLimits = Settings<typeof OUTPUT_LIMITS.shape>;

/** An image output socket: its folder under /output holds the image. */
export interface ImageOutputFolder {
  readonly slug: string;
  readonly relativePath: string;
}

/**
 * Stores every regular file under `outputDir` at `jobs/<id>/outputs/<n>`, its path under /output
 * in the result record (the algorithm names its files, so keys do not), streamed from disk (a
 * file larger than one part as a multipart upload, so any size S3 takes) and hashed as it is
 * read. Links and special files are never followed (a link could name a file of the host), and
 * each file is opened with O_NOFOLLOW. Too many files in an image output's folder, or too many
 * files or bytes in all, refuse the whole output before anything is stored, naming the limit and
 * its configuration key.
 */
export async function stageOut(
  s3: S3Client,
  bucket: string,
  jobId: string,
  outputDir: string,
  limits: OutputLimits,
  options: {
    /** The interface's image outputs, whose folders hold at most `outputFilesPerImageFolder` files. */
    readonly imageOutputs?: readonly ImageOutputFolder[];
    /** Part size of the files stored in parts (5 MiB to 5 GiB). */
    readonly partBytes?: number;
  } = {},
): Promise<{ outputs: StoredOutput[]; ignored: { path: string; reason: string }[] }> {
  const partBytes = options.partBytes ?? UPLOAD_PART_BYTES;
  const files: { path: string; bytes: number }[] = [];
  const ignored: { path: string; reason: string }[] = [];
  let total = 0;
  const walk = async (relative: string) => {
    for (const entry of await fs.promises.readdir(path.join(outputDir, relative), { withFileTypes: true })) {
      const entryPath = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        await walk(entryPath);
      } else if (entry.isFile()) {
        const { size } = await fs.promises.lstat(path.join(outputDir, entryPath));
        files.push({ path: entryPath, bytes: size });
        total += size;
        if (files.length > limits.outputFiles) {
          throw new RunnerRefusal(
            `the algorithm wrote more than ${count(limits.outputFiles)} files to /output, the most a job may store (limits.outputFiles); nothing was stored`,
          );
        }
        if (total > limits.outputBytes) {
          throw new RunnerRefusal(
            `the algorithm wrote more than ${count(limits.outputBytes)} bytes to /output, the most a job may store (limits.outputBytes); nothing was stored`,
          );
        }
      } else {
        ignored.push({ path: entryPath, reason: entry.isSymbolicLink() ? 'a link' : 'not a regular file' });
      }
    }
  };
  await walk('');
  for (const socket of options.imageOutputs ?? []) {
    const folder = `${socket.relativePath.replace(/\/+$/, '')}/`;
    const held = files.filter((file) => file.path.startsWith(folder)).length;
    if (held > limits.outputFilesPerImageFolder) {
      throw new RunnerRefusal(
        `output "${socket.slug}" (/output/${socket.relativePath}) holds ${count(held)} files, more than the ${count(limits.outputFilesPerImageFolder)} an image output's folder may hold (limits.outputFilesPerImageFolder); nothing was stored`,
      );
    }
  }
  const outputs: StoredOutput[] = [];
  for (const [position, file] of files.entries()) {
    const handle = await fs.promises.open(
      path.join(outputDir, file.path),
      fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW,
    );
    try {
      const hash = createHash('sha256');
      const hashed = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          callback(null, chunk);
        },
      });
      // A read error ends `hashed` with it, which fails (and aborts) the upload reading it; an
      // upload that fails ends the reading.
      pipeline(handle.createReadStream({ autoClose: false }), hashed, () => undefined);
      const key = jobOutputKey(jobId, position);
      await uploadObject(s3, {
        bucket,
        key,
        body: hashed,
        bytes: file.bytes,
        partBytes,
      }).catch((err: Error) => {
        hashed.destroy();
        throw err;
      });
      outputs.push({ path: file.path, key, bytes: file.bytes, sha256: hash.digest('hex') });
    } finally {
      await handle.close();
    }
  }
  return { outputs, ignored };
}

/** A count as the reason shows it: 1,000. */
function count(value: number): string {
  return value.toLocaleString('en-US');
}
