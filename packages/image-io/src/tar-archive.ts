import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { checkedEntryPath, EntryWriter, ExtractionBudget } from './archive-entries';
import type { InputFile } from './convert-image-files';
import { reject, Rejection, thrownText } from './rejection';
import { TarFormatError, tarEntries } from './tar-entries';

/** Bytes read from an archive on disk at a time. */
const READ_BYTES = 1024 * 1024;

/** The bytes of a file, a megabyte at a time where it is on disk. */
function fileStream(file: InputFile): Readable {
  const { readRange, size } = file;
  if (!readRange || size === undefined) return Readable.from([file.load()]);
  return Readable.from(
    (function* () {
      for (let offset = 0; offset < size; offset += READ_BYTES) {
        yield readRange({ offset, length: Math.min(READ_BYTES, size - offset) });
      }
    })(),
  );
}

/**
 * Extracts a tar archive (plain, or gzipped: `.tgz`, `.tar.gz`) to disk through `writer`,
 * treating it as hostile, as zip archives are: paths that leave the archive, links of either
 * kind, devices and pipes, archives inside, and entries or bytes beyond the set's budget refuse
 * the whole archive with the reason. Folders are skipped; files keep their path in their name.
 */
export async function extractTar(
  file: InputFile,
  writer: EntryWriter,
  budget: ExtractionBudget,
): Promise<InputFile[]> {
  const source = fileStream(file);
  const stream = /\.(tgz|tar\.gz)$/i.test(file.name) ? source.pipe(zlib.createGunzip()) : source;
  // A damaged gzip stream ends the iteration with its error.
  source.on('error', (err) => stream.destroy(err));
  const extracted: InputFile[] = [];
  try {
    for await (const { entry, content } of tarEntries(stream)) {
      const { name, type } = entry;
      if (type === '1' || type === '2') {
        reject(
          `the tar archive holds the ${type === '2' ? 'symbolic' : 'hard'} link "${name}"; links are not extracted`,
        );
      }
      if (type === '3' || type === '4' || type === '6') {
        reject(`the tar archive holds "${name}", a device or pipe; only files are extracted`);
      }
      if (type !== '0' && type !== '7' && type !== '5') {
        reject(`the tar archive holds "${name}", an entry of type "${type}" that is not extracted`);
      }
      budget.entry('tar');
      const entryPath = type === '5' ? undefined : checkedEntryPath(name, 'tar');
      if (entryPath !== undefined) extracted.push(await writer.write(entryPath, Readable.from(content)));
    }
  } catch (err) {
    if (err instanceof Rejection) throw err;
    if (err instanceof TarFormatError) reject(err.message);
    reject(`the tar archive cannot be read: ${thrownText(err)}`);
  } finally {
    stream.destroy();
  }
  return extracted;
}
