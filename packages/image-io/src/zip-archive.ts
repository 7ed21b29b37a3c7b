import { Readable } from 'node:stream';
import * as yauzl from 'yauzl';
import { checkedEntryPath, EntryWriter, ExtractionBudget } from './archive-entries';
import type { InputFile } from './convert-image-files';
import { reject, Rejection, thrownText } from './rejection';

/** Bytes read from an archive on disk at a time. */
const READ_BYTES = 1024 * 1024;

/** An archive on disk as yauzl reads it: ranges, never the whole file. */
class RangeReader extends yauzl.RandomAccessReader {
  constructor(private readonly file: InputFile & Required<Pick<InputFile, 'readRange'>>) {
    super();
  }

  _readStreamForRange(start: number, end: number): Readable {
    const file = this.file;
    return Readable.from(
      (function* () {
        for (let offset = start; offset < end; offset += READ_BYTES) {
          const chunk = file.readRange({ offset, length: Math.min(READ_BYTES, end - offset) });
          if (chunk.length === 0) throw new Error('the archive ends before its entry does');
          yield chunk;
        }
      })(),
    );
  }
}

/**
 * Opens a zip archive for reading one entry at a time (`readEntry`), in ranges where it is on
 * disk. Names arrive raw: read them with `zipEntryName`.
 */
export async function openZip(file: InputFile): Promise<yauzl.ZipFile> {
  // Names arrive raw, so that this module's own checks judge them and say why.
  const options = { lazyEntries: true, decodeStrings: false, validateEntrySizes: true };
  return new Promise<yauzl.ZipFile>((resolve, fail) => {
    const done = (err: Error | null, zip?: yauzl.ZipFile) => (err ? fail(err) : resolve(zip!));
    if (file.readRange && file.size !== undefined) {
      yauzl.fromRandomAccessReader(
        new RangeReader({ ...file, readRange: file.readRange }),
        file.size,
        options,
        done,
      );
    } else {
      yauzl.fromBuffer(file.load(), options, done);
    }
  });
}

/**
 * Extracts a zip archive to disk through `writer`, treating it as hostile: entries with
 * absolute paths, `..`, backslashes or drive letters, symbolic links, archives inside the
 * archive, and entries or content beyond the set's budget (counted while inflating) refuse the
 * whole archive with the reason. Folders are skipped; files keep their path in their name. The
 * archive itself is read in ranges where it is on disk.
 */
export async function extractZip(
  file: InputFile,
  writer: EntryWriter,
  budget: ExtractionBudget,
): Promise<InputFile[]> {
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(file);
  } catch (err) {
    reject(`the zip archive cannot be read: ${thrownText(err)}`);
  }
  const extracted: InputFile[] = [];
  try {
    // The count its directory declares is refused before any entry is read.
    for (let i = 0; i < zip.entryCount; i++) budget.entry('zip');
    await new Promise<void>((resolve, fail) => {
      zip.on('error', (err: Error) =>
        fail(err instanceof Rejection ? err : new Rejection(`the zip archive is damaged: ${err.message}`)),
      );
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        try {
          const entryPath = checkedPath(entry);
          if (entryPath === undefined) {
            zip.readEntry();
            return;
          }
          zip.openReadStream(entry, (err, stream) => {
            if (err || !stream)
              return fail(new Rejection(`entry ${entryPath} cannot be read: ${err?.message ?? 'no data'}`));
            writer.write(entryPath, stream).then((input) => {
              extracted.push(input);
              zip.readEntry();
            }, fail);
          });
        } catch (entryErr) {
          fail(entryErr);
        }
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
  return extracted;
}

/** An entry's name as its archive wrote it: UTF-8 where flagged, else CP437, read here as Latin-1. */
export function zipEntryName(entry: yauzl.Entry): string {
  const raw = entry.fileName as unknown as Buffer;
  // General purpose flag bit 11 marks UTF-8 names.
  return raw.toString(entry.generalPurposeBitFlag & 0x800 ? 'utf8' : 'latin1');
}

/** An entry's Unix mode (type and permission bits), 0 where the archive records none. */
export function zipEntryMode(entry: yauzl.Entry): number {
  // The upper 16 bits of the external attributes carry it.
  return (entry.externalFileAttributes >>> 16) & 0o177777;
}

/** Whether the entry is a symbolic link (mode 0o120000), its content then being the target. */
export function isZipSymlink(entry: yauzl.Entry): boolean {
  return (zipEntryMode(entry) & 0o170000) === 0o120000;
}

/** The entry's path if it is a file to extract, undefined for a folder; refuses anything unsafe. */
function checkedPath(entry: yauzl.Entry): string | undefined {
  const name = zipEntryName(entry);
  const checked = checkedEntryPath(name, 'zip');
  if (isZipSymlink(entry)) {
    reject(`the zip archive holds the symbolic link "${name}"; links are not extracted`);
  }
  return checked;
}
