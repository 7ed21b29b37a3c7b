import { GetObjectCommand } from '@aws-sdk/client-s3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { s3 } from '../aws-clients';
import { InputFile } from '../conversion/convert-image-files';

/**
 * Downloads the files of an upload set into `folder`, streamed, so the set's bytes are never all
 * in memory; each file is read back only when a reader loads it. Files are stored by position,
 * not by their uploaded names, which are the user's and may hold any character.
 */
export async function downloadUploadSet(
  files: readonly { readonly filename: string; readonly objectKey: string }[],
  bucket: string,
  folder: string,
): Promise<InputFile[]> {
  const inputs: InputFile[] = [];
  for (const [i, file] of files.entries()) {
    const local = path.join(folder, String(i));
    const object = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: file.objectKey }));
    await pipeline(object.Body as Readable, fs.createWriteStream(local));
    inputs.push({ name: file.filename, load: () => readWholeFile(local) });
  }
  return inputs;
}

/** Largest read that `fs.readSync` takes at once (2 GiB - 1); slides are larger. */
const CHUNK_BYTES = 2 ** 31 - 1;

/** A file's bytes, read in chunks: `fs.readFileSync` refuses files of 2 GiB and more. */
export function readWholeFile(file: string): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const content = Buffer.allocUnsafe(size);
    for (let offset = 0; offset < size;) {
      const read = fs.readSync(fd, content, offset, Math.min(CHUNK_BYTES, size - offset), offset);
      if (read === 0) throw new Error(`${file} ended at ${offset} of ${size} bytes`);
      offset += read;
    }
    return content;
  } finally {
    fs.closeSync(fd);
  }
}

/** A fresh folder under `root` for one conversion, which the caller removes with `removeFolder`. */
export function newWorkFolder(root: string): string {
  fs.mkdirSync(root, { recursive: true });
  return fs.mkdtempSync(path.join(root, 'conversion-'));
}

export function removeFolder(folder: string): void {
  fs.rmSync(folder, { recursive: true, force: true });
}
