import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { ConversionLimits } from './conversion-limits';
import type { InputFile } from './convert-image-files';
import { diskFile } from './disk-file';
import { reject, Rejection, thrownText } from './rejection';
import { TarFormatError } from './tar-entries';

/** Names of the archives the converter opens: zip, tar and gzipped tar. */
export const ARCHIVE_NAME = /\.(zip|tar|tgz|tar\.gz)$/i;

/**
 * What the archives of one upload set may still expand to: entries and bytes, shared by every
 * archive of the set, so that many small archives cannot add up to what one may not.
 */
export class ExtractionBudget {
  private entries = 0;
  private bytes = 0;

  constructor(private readonly limits: Pick<ConversionLimits, 'maxExtractedBytes' | 'maxArchiveEntries'>) {}

  /** Counts one more entry of `kind`'s archive; refuses past the set's limit. */
  entry(kind: string): void {
    this.entries += 1;
    if (this.entries > this.limits.maxArchiveEntries) {
      reject(
        `the ${kind} archive brings the upload's archives to more than ${this.limits.maxArchiveEntries} entries`,
      );
    }
  }

  /** Counts bytes as they are extracted; refuses past the set's limit. */
  extracted(kind: string, bytes: number): void {
    this.bytes += bytes;
    if (this.bytes > this.limits.maxExtractedBytes) {
      reject(
        `the ${kind} archive expands beyond the limit of ${this.limits.maxExtractedBytes} bytes for the archives of one upload`,
      );
    }
  }
}

/**
 * An entry's path inside its archive, without leading `./` or a trailing `/` (empty for the
 * archive's own root); refuses, naming it, a name with control characters or one that leaves the
 * archive (absolute, a drive letter, a backslash, `..`).
 */
export function entryPathInside(name: string, kind: string): string {
  if ([...name].some((c) => c.charCodeAt(0) < 0x20)) {
    reject(`the ${kind} archive holds an entry whose name has control characters`);
  }
  if (
    name.startsWith('/') ||
    /^[A-Za-z]:/.test(name) ||
    name.includes('\\') ||
    name.split('/').includes('..')
  ) {
    reject(`the ${kind} archive holds the entry "${name}", whose path leaves the archive`);
  }
  return name
    .split('/')
    .filter((part) => part !== '' && part !== '.')
    .join('/');
}

/**
 * An entry's path if it is a file to extract, undefined for a folder; refuses, naming it, a name
 * that `entryPathInside` refuses or another archive inside.
 */
export function checkedEntryPath(name: string, kind: string): string | undefined {
  const plain = entryPathInside(name, kind);
  if (name.endsWith('/') || plain === '') return undefined;
  if (ARCHIVE_NAME.test(plain)) {
    reject(
      `the ${kind} archive holds another archive, "${plain}"; archives inside archives are not extracted`,
    );
  }
  return plain;
}

/**
 * Writes an archive's entries to disk, each to a numbered file of its own under `folder` (never
 * a path taken from the archive), counting their bytes against the set's budget while they are
 * written, and gives each back as an input file named `<archive>/<path inside>`.
 */
export class EntryWriter {
  private count = 0;

  constructor(
    private readonly folder: string,
    private readonly archiveName: string,
    private readonly kind: string,
    private readonly budget: ExtractionBudget,
  ) {}

  async write(entryPath: string, content: NodeJS.ReadableStream): Promise<InputFile> {
    const file = path.join(this.folder, `${this.count++}`);
    const counted = new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        try {
          this.budget.extracted(this.kind, chunk.length);
          done(null, chunk);
        } catch (err) {
          done(err as Error);
        }
      },
    });
    try {
      await pipeline(content, counted, fs.createWriteStream(file, { flags: 'wx', mode: 0o600 }));
    } catch (err) {
      if (err instanceof Rejection) throw err;
      // The archive's own structure, found while reading the entry.
      if (err instanceof TarFormatError) reject(err.message);
      reject(`entry ${entryPath} is damaged: ${thrownText(err)}`);
    }
    return diskFile(`${this.archiveName}/${entryPath}`, file);
  }
}
