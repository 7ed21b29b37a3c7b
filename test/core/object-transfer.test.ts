import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { partSizeFor } from '../../lambda/contracts/s3-limits';
import { copyObject } from '../../lambda/core/object-copy';
import { uploadObject } from '../../lambda/core/object-upload';
import { EmbeddedS3, startS3 } from '../helpers/embedded-s3';

const BUCKET = 'transfers';
const MiB = 1024 ** 2;
/** S3's smallest part: objects of tens of MiB go through the multipart paths. */
const PART = 5 * MiB;

let local: EmbeddedS3;
let dataDir: string;
let s3: S3Client;
/** The commands the client sent, in order. */
let sent: string[];

beforeAll(async () => {
  local = await startS3(BUCKET);
  ({ dataDir, s3, sent } = local);
});

beforeEach(() => {
  sent.length = 0;
});

afterAll(() => local.stop());

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

const stored = (key: string) => local.stored(key);

/** Multipart uploads that local S3 still holds parts of. */
function unfinishedUploads(): string[] {
  const uploads = path.join(dataDir, 's3', BUCKET, '._S3rver_uploads');
  return fs.existsSync(uploads) ? fs.readdirSync(uploads) : [];
}

const count = (command: string) => sent.filter((name) => name === command).length;

describe('part sizes', () => {
  test('the preferred size, grown in whole MiB past 10,000 parts; never outside S3 limits', () => {
    expect(partSizeFor(12 * MiB, PART)).toBe(PART);
    expect(partSizeFor(100_000 * MiB, PART)).toBe(10 * MiB);
    // 5 TiB, the largest object: 10,000 parts of 525 MiB hold it.
    expect(partSizeFor(5 * 1024 ** 4, 8 * MiB)).toBe(525 * MiB);
    expect(() => partSizeFor(MiB, 4 * MiB)).toThrow(/outside S3's limits/);
    expect(() => partSizeFor(MiB, 6 * 1024 ** 3)).toThrow(/outside S3's limits/);
    expect(() => partSizeFor(5 * 1024 ** 4 + 1, PART)).toThrow(/larger than S3 stores/);
  });
});

describe('copying an object', () => {
  const source = randomBytes(12 * MiB + 3);
  let etag: string;
  beforeAll(async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'sources/scan one.mha', Body: source }));
    etag = (await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'sources/scan one.mha' }))).ETag!;
  });

  test('an object larger than one part is copied range by range inside S3', async () => {
    await copyObject(s3, {
      bucket: BUCKET,
      source: { key: 'sources/scan one.mha', bytes: source.length, etag },
      key: 'copies/multipart.mha',
      partBytes: PART,
    });
    expect(sent).toEqual([
      'CreateMultipartUpload',
      'UploadPartCopy',
      'UploadPartCopy',
      'UploadPartCopy',
      'CompleteMultipartUpload',
    ]);
    expect(sha256((await stored('copies/multipart.mha'))!)).toBe(sha256(source));
  });

  test('an object that fits in one part is one CopyObject', async () => {
    await copyObject(s3, {
      bucket: BUCKET,
      source: { key: 'sources/scan one.mha', bytes: source.length },
      key: 'copies/single.mha',
      partBytes: 16 * MiB,
    });
    expect(sent).toEqual(['CopyObject']);
    expect(sha256((await stored('copies/single.mha'))!)).toBe(sha256(source));
  });

  test('a copy whose source changed is aborted: nothing is stored and no part remains', async () => {
    const copy = copyObject(s3, {
      bucket: BUCKET,
      source: {
        key: 'sources/scan one.mha',
        bytes: source.length,
        etag: '"0123456789abcdef0123456789abcdef"',
      },
      key: 'copies/changed.mha',
      partBytes: PART,
    });
    await expect(copy).rejects.toMatchObject({ name: 'PreconditionFailed' });
    expect(count('AbortMultipartUpload')).toBe(1);
    expect(count('CompleteMultipartUpload')).toBe(0);
    expect(await stored('copies/changed.mha')).toBeUndefined();
    expect(unfinishedUploads()).toEqual([]);
  });
});

describe('uploading a body', () => {
  test('a stream larger than one part is uploaded in parts', async () => {
    const bytes = randomBytes(12 * MiB + 3);
    const body = Readable.from(
      (function* () {
        for (let at = 0; at < bytes.length; at += MiB) yield bytes.subarray(at, at + MiB);
      })(),
    );
    await uploadObject(s3, {
      bucket: BUCKET,
      key: 'uploads/streamed.mha',
      body,
      bytes: bytes.length,
      partBytes: PART,
    });
    expect(sent).toEqual([
      'CreateMultipartUpload',
      'UploadPart',
      'UploadPart',
      'UploadPart',
      'CompleteMultipartUpload',
    ]);
    expect(sha256((await stored('uploads/streamed.mha'))!)).toBe(sha256(bytes));
  });

  test('a buffer that fits in one part is one PutObject', async () => {
    const bytes = randomBytes(MiB);
    await uploadObject(s3, { bucket: BUCKET, key: 'uploads/small.mha', body: bytes, bytes: bytes.length });
    expect(sent).toEqual(['PutObject']);
    expect(sha256((await stored('uploads/small.mha'))!)).toBe(sha256(bytes));
  });

  test('a stream that fails midway aborts the upload: nothing is stored and no part remains', async () => {
    const body = Readable.from(
      (function* () {
        yield Buffer.alloc(6 * MiB);
        throw new Error('disk read failed');
      })(),
    );
    const upload = uploadObject(s3, {
      bucket: BUCKET,
      key: 'uploads/broken.mha',
      body,
      bytes: 12 * MiB,
      partBytes: PART,
    });
    await expect(upload).rejects.toThrow('disk read failed');
    expect(count('AbortMultipartUpload')).toBe(1);
    expect(await stored('uploads/broken.mha')).toBeUndefined();
    expect(unfinishedUploads()).toEqual([]);
  });

  test('a stream shorter than its stated length is refused and aborted', async () => {
    const upload = uploadObject(s3, {
      bucket: BUCKET,
      key: 'uploads/short.mha',
      body: Readable.from([Buffer.alloc(11 * MiB)]),
      bytes: 12 * MiB,
      partBytes: PART,
    });
    await expect(upload).rejects.toThrow(`the body ended after ${11 * MiB} of the ${12 * MiB} bytes stated`);
    expect(count('AbortMultipartUpload')).toBe(1);
    expect(await stored('uploads/short.mha')).toBeUndefined();
    expect(unfinishedUploads()).toEqual([]);
  });
});
