import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import {
  extractModelArchive,
  ModelArchiveLimits,
  readModelArchive,
  emptyExtracted,
} from '../../lambda/algorithms/model-archive';
import { modelTarball, TarEntry } from '../../packages/image-io/test/helpers/tar-archive';

const limits: ModelArchiveLimits = {
  entries: 100,
  extractedBytes: 1024 ** 2,
  names: { entries: 'limits.modelEntries', extractedBytes: 'limits.modelExtractedBytes' },
};
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
// Small chunks, so that headers and contents straddle the reads as they do from S3.
const chunked = (data: Buffer) =>
  Readable.from(
    Array.from({ length: Math.ceil(data.length / 37) }, (_, i) => data.subarray(i * 37, i * 37 + 37)),
  );
const read = (entries: TarEntry[], given = limits) => readModelArchive(chunked(modelTarball(entries)), given);

let scratch: string;
beforeEach(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'model-archive-'));
});
afterEach(async () => {
  await emptyExtracted(scratch);
  fs.rmSync(scratch, { recursive: true });
});

describe('reading a model archive', () => {
  test('hashes the stored bytes and counts entries and extracted bytes', async () => {
    const data = modelTarball([
      { name: './', type: '5' },
      { name: './weights/', type: '5' },
      { name: './weights/model.bin', content: 'x'.repeat(1000) },
      { name: './config.json', content: '{}' },
      { name: './latest', type: '2', linkName: 'weights/model.bin' },
      { name: './copy.bin', type: '1', linkName: 'weights/model.bin' },
    ]);
    await expect(readModelArchive(chunked(data), limits)).resolves.toEqual({
      sha256: sha256(data),
      compressedBytes: data.length,
      entries: 6,
      extractedBytes: 1002,
    });
  });

  test.each<[string, TarEntry[], RegExp]>([
    ['an absolute path', [{ name: '/etc/cron.d/x', content: 'x' }], /"\/etc\/cron.d\/x" is an absolute path/],
    ['a path with ..', [{ name: 'weights/../../x', content: 'x' }], /leads out of the model with "\.\."/],
    [
      'a symbolic link out',
      [{ name: 'out', type: '2', linkName: '../../etc' }],
      /"out" points outside the model/,
    ],
    ['an absolute symbolic link', [{ name: 'out', type: '2', linkName: '/etc/passwd' }], /absolute path/],
    [
      'links that lead out together',
      [
        { name: 'a/', type: '5' },
        { name: 'a/up', type: '2', linkName: '..' },
        { name: 'b', type: '2', linkName: 'a/up/..' },
      ],
      /"b" points outside the model/,
    ],
    [
      'a file placed through a link',
      [
        { name: 'here', type: '2', linkName: '.' },
        { name: 'here/x', content: 'x' },
      ],
      /"here\/x" lies inside "here", which is a symbolic link/,
    ],
    ['a hard link out', [{ name: 'h', type: '1', linkName: '../etc/shadow' }], /leads out of the model/],
    ['a hard link to nothing', [{ name: 'h', type: '1', linkName: 'missing' }], /not a file earlier/],
    ['a device', [{ name: 'dev', type: '3' }], /"dev" is a device/],
    ['a FIFO', [{ name: 'pipe', type: '6' }], /"pipe" is a FIFO/],
    [
      'an entry twice',
      [
        { name: 'x', content: 'a' },
        { name: 'x', type: '2', linkName: 'y' },
      ],
      /"x" appears more than once/,
    ],
  ])('refuses %s, naming the entry', async (_, entries, reason) => {
    await expect(read(entries)).rejects.toThrow(reason);
  });

  test('refuses more entries or bytes than the limits, naming them', async () => {
    const files = Array.from({ length: 4 }, (_, i) => ({ name: `f${i}`, content: 'x'.repeat(300) }));
    await expect(read(files, { ...limits, entries: 3 })).rejects.toThrow(
      'the model has more than 3 entries (limits.modelEntries)',
    );
    await expect(read(files, { ...limits, extractedBytes: 1000 })).rejects.toThrow(
      'the model holds more than 1000 bytes once extracted (limits.modelExtractedBytes)',
    );
  });

  test('refuses what is not a gzip-compressed tar archive, or is cut short', async () => {
    await expect(
      readModelArchive(Readable.from([Buffer.from('PK\u0003\u0004 a zip')]), limits),
    ).rejects.toThrow(/not a gzip-compressed tar archive/);
    await expect(
      readModelArchive(Readable.from([gzipSync('just text, no tar headers'.repeat(40))]), limits),
    ).rejects.toThrow(/not a tar archive/);
    const whole = modelTarball([{ name: 'a', content: 'x'.repeat(5000) }]);
    await expect(
      readModelArchive(Readable.from([whole.subarray(0, whole.length - 30)]), limits),
    ).rejects.toThrow(/not a gzip-compressed tar archive|truncated/);
  });

  test('reads what GNU tar writes, long names included', async () => {
    const source = path.join(scratch, 'source');
    const long = `${'deep/'.repeat(30)}weights-with-a-name-longer-than-a-hundred-characters.bin`;
    fs.mkdirSync(path.join(source, path.dirname(long)), { recursive: true });
    fs.writeFileSync(path.join(source, long), 'w');
    fs.symlinkSync('deep', path.join(source, 'link'));
    const archive = path.join(scratch, 'model.tar.gz');
    execFileSync('tar', ['-czf', archive, '-C', source, '.']);
    const summary = await readModelArchive(fs.createReadStream(archive), limits);
    expect(summary).toMatchObject({ sha256: sha256(fs.readFileSync(archive)), extractedBytes: 1 });
  });
});

describe('extracting a model archive', () => {
  const entries: TarEntry[] = [
    { name: 'weights/', type: '5' },
    { name: 'weights/model.bin', content: 'weights' },
    { name: 'run.sh', content: '#!/bin/sh\n', mode: 0o755 },
    { name: 'latest', type: '2', linkName: 'weights/model.bin' },
  ];

  test('places every entry, with no write bits', async () => {
    const data = modelTarball(entries);
    const target = path.join(scratch, 'model');
    await extractModelArchive(chunked(data), target, limits, sha256(data));
    expect(fs.readFileSync(path.join(target, 'latest'), 'utf8')).toBe('weights');
    expect(fs.statSync(path.join(target, 'weights/model.bin')).mode & 0o777).toBe(0o444);
    expect(fs.statSync(path.join(target, 'run.sh')).mode & 0o777).toBe(0o555);
    expect(fs.statSync(path.join(target, 'weights')).mode & 0o777).toBe(0o555);
    expect(fs.statSync(target).mode & 0o777).toBe(0o555);
  });

  test('removes what it wrote when the archive does not hash as validated', async () => {
    const target = path.join(scratch, 'model');
    await expect(
      extractModelArchive(chunked(modelTarball(entries)), target, limits, 'f'.repeat(64)),
    ).rejects.toThrow(`not the ${'f'.repeat(64)} it was validated with`);
    expect(fs.readdirSync(target)).toEqual([]);
  });

  test('removes what it wrote when a later entry is refused, and writes nothing outside', async () => {
    const data = modelTarball([
      ...entries,
      { name: 'up', type: '2', linkName: '..' },
      { name: 'up/escaped', content: 'x' },
    ]);
    const target = path.join(scratch, 'model');
    await expect(extractModelArchive(chunked(data), target, limits, sha256(data))).rejects.toThrow(
      /points outside the model/,
    );
    expect(fs.readdirSync(target)).toEqual([]);
    expect(fs.existsSync(path.join(scratch, 'escaped'))).toBe(false);
  });
});
