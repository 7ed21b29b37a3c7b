export interface TarEntrySpec {
  /** Written as given, even when a sane tar tool would refuse it. */
  readonly name: string;
  readonly content?: Buffer;
  /** ustar type flag: '0' file, '1' hard link, '2' symbolic link, '3' character device, '5' folder. */
  readonly type?: string;
  readonly linkName?: string;
}

/**
 * Builds a ustar archive byte by byte, so tests can hand the converter archives that tar tools
 * refuse to make: path escapes, links, devices.
 */
export function buildTar(entries: readonly TarEntrySpec[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const content = entry.content ?? Buffer.alloc(0);
    const header = Buffer.alloc(512);
    header.write(entry.name, 0, 100, 'utf8');
    header.write('0000644\0', 100, 'latin1');
    header.write('0000000\0', 108, 'latin1');
    header.write('0000000\0', 116, 'latin1');
    header.write(`${content.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
    header.write('00000000000\0', 136, 'latin1');
    header.write(entry.type ?? '0', 156, 'latin1');
    if (entry.linkName) header.write(entry.linkName, 157, 100, 'utf8');
    header.write('ustar\x0000', 257, 'latin1');
    header.fill(0x20, 148, 156);
    const sum = header.reduce((total, byte) => total + byte, 0);
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    blocks.push(header, content, Buffer.alloc((512 - (content.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}
