import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as yauzl from 'yauzl';
import { BUILD_SOURCE_ENTRY } from '../../lambda/contracts/builds';

/** Why a pipeline's source action failed, as its execution's summary says it. */
export class SourceError extends Error {}

const ENTRY_NAMES: readonly string[] = Object.values(BUILD_SOURCE_ENTRY);

/**
 * What the pipeline's source action and CodeBuild's download do with a build's source object: it
 * is read from the bucket, and the one archive it holds (`BUILD_SOURCE_ENTRY`) is written to
 * `folder`. Returns the archive's path there.
 */
export async function fetchBuildSource(
  s3: S3Client,
  source: { readonly bucket: string; readonly key: string },
  folder: string,
): Promise<string> {
  let body: Buffer;
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: source.bucket, Key: source.key }));
    body = Buffer.from(await object.Body!.transformToByteArray());
  } catch (err) {
    throw new SourceError(`the source object ${source.key} cannot be read: ${(err as Error).message}`);
  }
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(body, { lazyEntries: true }, (err, opened) =>
      err
        ? reject(new SourceError(`the source object ${source.key} is not a zip: ${err.message}`))
        : resolve(opened),
    ),
  );
  try {
    if (zip.entryCount !== 1) {
      throw new SourceError(
        `the source object ${source.key} holds ${zip.entryCount} entries, not one archive`,
      );
    }
    const entry = await new Promise<yauzl.Entry>((resolve, reject) => {
      zip.once('entry', resolve);
      zip.once('error', reject);
      zip.readEntry();
    });
    if (!ENTRY_NAMES.includes(entry.fileName)) {
      throw new SourceError(
        `the source object ${source.key} holds "${entry.fileName}", not one of ${ENTRY_NAMES.join(', ')}`,
      );
    }
    await fs.promises.mkdir(folder, { recursive: true });
    const archive = path.join(folder, entry.fileName);
    const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) =>
      zip.openReadStream(entry, (err, opened) => (err ? reject(err) : resolve(opened))),
    );
    await pipeline(stream, fs.createWriteStream(archive));
    return archive;
  } finally {
    zip.close();
  }
}
