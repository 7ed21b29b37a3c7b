import { gzipSync } from 'node:zlib';

/** One entry of a tar archive as a test writes it, hostile ones included (`../x`, `/etc/x`, links out). */
export interface TarEntry {
  readonly name: string;
  /** ustar type: '0' file (default), '5' folder, '1' hard link, '2' symbolic link, '3' device, '6' FIFO. */
  readonly type?: string;
  readonly content?: string | Buffer;
  readonly linkName?: string;
  /** @default 0o644, 0o755 for folders */
  readonly mode?: number;
}

function field(block: Buffer, offset: number, length: number, value: string): void {
  block.write(value, offset, length, 'utf8');
}

function octal(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, '0')}\0`;
}

/** A ustar archive of `entries`, written exactly as given: nothing is normalised or refused. */
export function tarArchive(entries: readonly TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const type = entry.type ?? '0';
    const content = Buffer.from(entry.content ?? '');
    const header = Buffer.alloc(512);
    field(header, 0, 100, entry.name);
    field(header, 100, 8, octal(entry.mode ?? (type === '5' ? 0o755 : 0o644), 8));
    field(header, 108, 8, octal(0, 8));
    field(header, 116, 8, octal(0, 8));
    field(header, 124, 12, octal(type === '0' ? content.length : 0, 12));
    field(header, 136, 12, octal(0, 12));
    field(header, 148, 8, '        ');
    field(header, 156, 1, type);
    field(header, 157, 100, entry.linkName ?? '');
    field(header, 257, 6, 'ustar\0');
    field(header, 263, 2, '00');
    let sum = 0;
    for (const byte of header) sum += byte;
    field(header, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
    blocks.push(header);
    if (type === '0' && content.length > 0) {
      blocks.push(content, Buffer.alloc((512 - (content.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** The same, gzip-compressed: a model as its editor uploads it. */
export function modelTarball(entries: readonly TarEntry[]): Buffer {
  return gzipSync(tarArchive(entries));
}
