import { GetObjectCommand } from '@aws-sdk/client-s3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { s3 } from '../aws-clients';
import { InputFile } from '../conversion/convert-image-files';
import { diskFile } from '../conversion/disk-file';

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
    inputs.push(diskFile(file.filename, local));
  }
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
