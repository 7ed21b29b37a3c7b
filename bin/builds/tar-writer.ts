import { Writable } from 'node:stream';

/** An entry of a tar archive: a file (its content streamed after the header), a folder or a link. */
export type TarEntry =
  | {
      readonly type: 'file';
      readonly name: string;
      readonly mode: number;
      readonly mtime: Date;
      readonly size: number;
    }
  | { readonly type: 'directory'; readonly name: string; readonly mode: number; readonly mtime: Date }
  | {
      readonly type: 'symlink';
      readonly name: string;
      readonly mode: number;
      readonly mtime: Date;
      readonly target: string;
    };

const BLOCK = 512;
const TYPE_FLAGS = { file: '0', symlink: '2', directory: '5' } as const;

/** `len key=value\n`, where len counts the whole record, its own digits too. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body);
  while (String(length).length + Buffer.byteLength(body) !== length) {
    length = String(length).length + Buffer.byteLength(body);
  }
  return `${length}${body}`;
}

function header(
  name: string,
  typeFlag: string,
  fields: { mode: number; size: number; mtime: Date; link?: string },
): Buffer {
  const block = Buffer.alloc(BLOCK);
  const octal = (value: number, offset: number, length: number) =>
    block.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length, 'ascii');
  block.write(name, 0, 100, 'utf8');
  octal(fields.mode & 0o7777, 100, 8);
  octal(0, 108, 8);
  octal(0, 116, 8);
  octal(fields.size, 124, 12);
  octal(Math.floor(fields.mtime.getTime() / 1000), 136, 12);
  block.write(' '.repeat(8), 148, 8, 'ascii');
  block.write(typeFlag, 156, 1, 'ascii');
  if (fields.link) block.write(fields.link, 157, 100, 'utf8');
  block.write('ustar\0', 257, 6, 'ascii');
  block.write('00', 263, 2, 'ascii');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return block;
}

/** Pads a file's content to whole blocks. */
export function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/**
 * The header blocks of one entry (ustar, with a PAX header before it for a name or link target
 * that ustar cannot hold: over 100 bytes or not ASCII). A file's content and `padding` follow.
 */
export function entryHeader(entry: TarEntry): Buffer {
  const name = entry.type === 'directory' && !entry.name.endsWith('/') ? `${entry.name}/` : entry.name;
  const link = entry.type === 'symlink' ? entry.target : undefined;
  const size = entry.type === 'file' ? entry.size : 0;
  if (size >= 8 ** 11) throw new Error(`${entry.name} is over 8 GiB, more than a tar header holds`);
  const long = (text: string) => Buffer.byteLength(text) > 100 || /[^\x20-\x7e]/.test(text);
  const records = [
    ...(long(name) ? [paxRecord('path', name)] : []),
    ...(link !== undefined && long(link) ? [paxRecord('linkpath', link)] : []),
  ].join('');
  const blocks: Buffer[] = [];
  if (records) {
    const pax = Buffer.from(records, 'utf8');
    blocks.push(
      header('PaxHeader', 'x', { mode: 0o644, size: pax.length, mtime: entry.mtime }),
      pax,
      padding(pax.length),
    );
  }
  const ascii = (text: string) => text.replace(/[^\x20-\x7e]/g, '_').slice(0, 100);
  blocks.push(
    header(ascii(name), TYPE_FLAGS[entry.type], {
      mode: entry.mode,
      size,
      mtime: entry.mtime,
      link: link && ascii(link),
    }),
  );
  return Buffer.concat(blocks);
}

/** The two zero blocks that end an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);

/** Writes `data` to `out`, waiting for it to drain when it asks. */
export async function write(out: Writable, data: Buffer): Promise<void> {
  if (!out.write(data)) await new Promise((resolve) => out.once('drain', resolve));
}
