import * as yauzl from 'yauzl';
import { ConversionLimits } from './conversion-limits';
import { reject, Rejection, thrownText } from './rejection';

export interface ArchiveLimits {
  /** Most entries one archive may hold. */
  readonly maxEntries: number;
  /** Most bytes all entries may expand to, counted as they are inflated, not as the archive claims. */
  readonly maxExpandedBytes: number;
}

export function archiveLimits(limits: ConversionLimits): ArchiveLimits {
  return { maxEntries: 10_000, maxExpandedBytes: limits.maxImageBytes };
}

/** An extracted file: its path inside the archive, with `/` between folders. */
export interface ArchiveEntry {
  readonly path: string;
  readonly content: Buffer;
}

/**
 * Extracts a zip archive in memory, treating it as hostile: entries with absolute paths, `..`,
 * backslashes or drive letters, symbolic links, archives inside the archive, too many entries,
 * and content beyond the expansion limit (counted while inflating) refuse the whole archive
 * with the reason. Folders are skipped; files keep their path.
 */
export async function extractZip(archive: Buffer, limits: ArchiveLimits): Promise<ArchiveEntry[]> {
  let zip: yauzl.ZipFile;
  try {
    zip = await new Promise<yauzl.ZipFile>((resolve, fail) =>
      yauzl.fromBuffer(
        archive,
        // Names arrive raw, so that this module's own checks judge them and say why.
        { lazyEntries: true, decodeStrings: false, validateEntrySizes: true },
        (err, z) => (err ? fail(err) : resolve(z!)),
      ),
    );
  } catch (err) {
    reject(`the zip archive cannot be read: ${thrownText(err)}`);
  }
  if (zip.entryCount > limits.maxEntries) {
    zip.close();
    reject(`the zip archive holds ${zip.entryCount} entries, more than the limit of ${limits.maxEntries}`);
  }

  const entries: ArchiveEntry[] = [];
  let expanded = 0;
  try {
    await new Promise<void>((resolve, fail) => {
      zip.on('error', (err: Error) =>
        fail(err instanceof Rejection ? err : new Rejection(`the zip archive is damaged: ${err.message}`)),
      );
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        try {
          const path = checkedPath(entry);
          if (path === undefined) {
            zip.readEntry();
            return;
          }
          zip.openReadStream(entry, (err, stream) => {
            if (err || !stream)
              return fail(new Rejection(`entry ${path} cannot be read: ${err?.message ?? 'no data'}`));
            const chunks: Buffer[] = [];
            stream.on('data', (chunk: Buffer) => {
              expanded += chunk.length;
              if (expanded > limits.maxExpandedBytes) {
                stream.destroy();
                fail(
                  new Rejection(
                    `the zip archive expands beyond the limit of ${limits.maxExpandedBytes} bytes`,
                  ),
                );
                return;
              }
              chunks.push(chunk);
            });
            stream.on('error', (streamErr: Error) =>
              fail(new Rejection(`entry ${path} is damaged: ${streamErr.message}`)),
            );
            stream.on('end', () => {
              entries.push({ path, content: Buffer.concat(chunks) });
              zip.readEntry();
            });
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
  return entries;
}

/** The entry's path if it is a file to extract, undefined for a folder; refuses anything unsafe. */
function checkedPath(entry: yauzl.Entry): string | undefined {
  const raw = entry.fileName as unknown as Buffer;
  // General purpose flag bit 11 marks UTF-8 names; others are CP437, read here as Latin-1.
  const name = raw.toString(entry.generalPurposeBitFlag & 0x800 ? 'utf8' : 'latin1');
  if ([...name].some((c) => c.charCodeAt(0) < 0x20)) {
    reject('the zip archive holds an entry whose name has control characters');
  }
  if (
    name.startsWith('/') ||
    /^[A-Za-z]:/.test(name) ||
    name.includes('\\') ||
    name.split('/').includes('..')
  ) {
    reject(`the zip archive holds the entry "${name}", whose path leaves the archive`);
  }
  // The upper 16 bits of the external attributes carry the Unix mode; 0o120000 is a symbolic link.
  if (((entry.externalFileAttributes >>> 16) & 0o170000) === 0o120000) {
    reject(`the zip archive holds the symbolic link "${name}"; links are not extracted`);
  }
  if (name.endsWith('/')) return undefined;
  if (/\.zip$/i.test(name))
    reject(`the zip archive holds another archive, "${name}"; archives inside archives are not extracted`);
  return name;
}
