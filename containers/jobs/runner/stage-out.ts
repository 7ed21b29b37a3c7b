import { S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline, Transform } from 'node:stream';
import { jobOutputKey } from '../../../lambda/contracts/bucket-layout';
import { UPLOAD_PART_BYTES, uploadObject } from '../../../lambda/core/object-upload';
import { StoredOutput } from '../../../lambda/jobs/result-record';

export interface OutputLimits {
  readonly maxFiles: number;
  readonly maxBytes: number;
}

export const DEFAULT_OUTPUT_LIMITS: OutputLimits = { maxFiles: 1000, maxBytes: 50 * 1024 ** 3 };

/**
 * Stores every regular file under `outputDir` at `jobs/<id>/outputs/<n>`, its path under /output
 * in the result record (the algorithm names its files, so keys do not), streamed from disk (a
 * file larger than one part as a multipart upload, so any size S3 takes) and hashed as it is
 * read. Links and special files are never followed (a link could name a file of the host), and
 * each file is opened with O_NOFOLLOW; too many files or bytes refuse the whole output, naming
 * the limit.
 */
export async function stageOut(
  s3: S3Client,
  bucket: string,
  jobId: string,
  outputDir: string,
  limits: OutputLimits = DEFAULT_OUTPUT_LIMITS,
  /** Part size of the files stored in parts (5 MiB to 5 GiB). */
  partBytes = UPLOAD_PART_BYTES,
): Promise<{ outputs: StoredOutput[]; ignored: { path: string; reason: string }[] }> {
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
        if (files.length > limits.maxFiles) {
          throw new Error(`the algorithm wrote more than ${limits.maxFiles} files to /output`);
        }
        if (total > limits.maxBytes) {
          throw new Error(`the algorithm wrote more than ${limits.maxBytes} bytes to /output`);
        }
      } else {
        ignored.push({ path: entryPath, reason: entry.isSymbolicLink() ? 'a link' : 'not a regular file' });
      }
    }
  };
  await walk('');
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
