import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import * as yauzl from 'yauzl';
import { zipOneEntry } from '../../lambda/builds/source-zip';

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The archive's entries as yauzl, a reader that follows the central directory, finds them. */
function readEntries(zip: Buffer): Promise<{ name: string; crc: number; size: number; data: Buffer }[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true }, (err, archive) => {
      if (err) return reject(err);
      const entries: { name: string; crc: number; size: number; data: Buffer }[] = [];
      archive.on('entry', (entry: yauzl.Entry) => {
        archive.openReadStream(entry, (openError, stream) => {
          if (openError) return reject(openError);
          void collect(stream).then((data) => {
            entries.push({ name: entry.fileName, crc: entry.crc32, size: entry.uncompressedSize, data });
            archive.readEntry();
          }, reject);
        });
      });
      archive.on('end', () => resolve(entries));
      archive.on('error', reject);
      archive.readEntry();
    });
  });
}

describe("a build's source object", () => {
  test('holds one stored entry, the body as it streamed in, its length known before it is read', async () => {
    const body = Buffer.from('\x1f\x8b an archive compressed already '.repeat(4000));
    const pieces = [body.subarray(0, 7), body.subarray(7, 70_000), body.subarray(70_000)];
    const zip = zipOneEntry('context.tar.gz', Readable.from(pieces), body.length);
    const bytes = await collect(zip.stream);
    expect(bytes.length).toBe(zip.bytes);
    const entries = await readEntries(bytes);
    expect(entries).toEqual([{ name: 'context.tar.gz', crc: crc32(body), size: body.length, data: body }]);
  });

  test('fails when the body is shorter or longer than stated, rather than store another archive', async () => {
    const body = Buffer.from('twelve bytes');
    await expect(collect(zipOneEntry('context.zip', Readable.from([body]), 13).stream)).rejects.toThrow(
      'ended after 12 of the 13 bytes',
    );
    await expect(collect(zipOneEntry('context.zip', Readable.from([body]), 11).stream)).rejects.toThrow(
      'runs past the 11 bytes',
    );
  });

  test('an entry of 4 GiB or more gets zip64 sizes', () => {
    // Only the length is computed here: the local and central headers' zip64 fields, the
    // descriptor's 8-byte sizes, and the zip64 end record and its locator.
    const small = zipOneEntry('context.zip', Readable.from([]), 1000).bytes - 1000;
    const large = zipOneEntry('context.zip', Readable.from([]), 0xffffffff).bytes - 0xffffffff;
    expect(large - small).toBe(20 + 8 + 20 + 56 + 20);
  });
});
