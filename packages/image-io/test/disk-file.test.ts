import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { diskFile, readWholeFile, ReusedBuffer } from '../src/disk-file';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disk-file-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const write = (name: string, bytes: number, fill: number) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, Buffer.alloc(bytes, fill));
  return file;
};

describe('files of an upload set read from disk', () => {
  test('slices read through one reused buffer share it, each read whole', () => {
    const reuse = new ReusedBuffer();
    const first = diskFile('a.dcm', write('a.dcm', 3000, 1)).load(reuse);
    expect(first.length).toBe(3000);
    expect(first.every((b) => b === 1)).toBe(true);
    const second = diskFile('b.dcm', write('b.dcm', 2000, 2)).load(reuse);
    expect(second.buffer).toBe(first.buffer);
    expect(second.length).toBe(2000);
    expect(second.every((b) => b === 2)).toBe(true);
    // Without a reused buffer each read has its own.
    expect(readWholeFile(path.join(dir, 'b.dcm')).buffer).not.toBe(first.buffer);
  });

  test('a file over 64 MiB gets a buffer of its own, which the reused buffer does not keep', () => {
    const reuse = new ReusedBuffer();
    const small = readWholeFile(write('small.dcm', 100, 3), reuse);
    const large = readWholeFile(write('large.dcm', 64 * 1024 * 1024 + 1, 4), reuse);
    expect(large.buffer).not.toBe(small.buffer);
    expect(large.length).toBe(64 * 1024 * 1024 + 1);
    expect(large[large.length - 1]).toBe(4);
    expect(readWholeFile(path.join(dir, 'small.dcm'), reuse).buffer).toBe(small.buffer);
  });
});
