import { GetObjectCommand } from '@aws-sdk/client-s3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { s3 } from '../core/aws-clients';
import { diskFile, InputFile } from '@imaging-platform/image-io';

/** Files downloaded at once: each GET waits tens of milliseconds for S3, so a series of 500 slices takes seconds one by one. */
const PARALLEL_DOWNLOADS = 16;

/**
 * Downloads the files of an upload set into `folder`, several at a time, each streamed, so the
 * set's bytes are never all in memory; each file is read back only when a reader loads it. Files
 * are stored by position, not by their uploaded names, which are the user's and may hold any
 * character. On a failure no more downloads start, and the error is thrown once those under way
 * have ended, so nothing writes into the folder after the caller removes it.
 */
export async function downloadUploadSet(
  files: readonly { readonly filename: string; readonly objectKey: string }[],
  bucket: string,
  folder: string,
): Promise<InputFile[]> {
  const inputs: InputFile[] = new Array(files.length);
  let next = 0;
  let failed = false;
  const downloader = async () => {
    while (!failed && next < files.length) {
      const i = next++;
      const local = path.join(folder, String(i));
      try {
        const object = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: files[i].objectKey }));
        await pipeline(object.Body as Readable, fs.createWriteStream(local));
      } catch (err) {
        failed = true;
        throw err;
      }
      inputs[i] = diskFile(files[i].filename, local);
    }
  };
  const outcomes = await Promise.allSettled(
    Array.from({ length: Math.min(PARALLEL_DOWNLOADS, files.length) }, downloader),
  );
  const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failure) throw failure.reason;
  return inputs;
}

/** A fresh folder under `root` for one conversion, which the caller removes with `removeFolder`. */
export function newWorkFolder(root: string): string {
  fs.mkdirSync(root, { recursive: true });
  return fs.mkdtempSync(path.join(root, 'conversion-'));
}

export function removeFolder(folder: string): void {
  fs.rmSync(folder, { recursive: true, force: true });
}
