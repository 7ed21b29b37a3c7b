import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { EmbeddedS3, startS3 } from '../helpers/embedded-s3';

const BUCKET = 'stand-in';
const MiB = 1024 ** 2;
const LIMIT = 5 * 1024 ** 3;

let local: EmbeddedS3;
let dataDir: string;
let s3: S3Client;
let endpoint: string;

beforeAll(async () => {
  local = await startS3(BUCKET);
  ({ dataDir, s3, endpoint } = local);
});

afterAll(() => local.stop());

/** A body of `bytes` that is produced only as it is read, counting what was read. */
function countingBody(bytes: number) {
  let read = 0;
  const body = new Readable({
    read() {
      const chunk = Math.min(MiB, bytes - read);
      read += chunk;
      this.push(chunk > 0 ? Buffer.alloc(chunk) : null);
    },
  });
  return { body, read: () => read };
}

/** An object stored through S3 and then grown, as a sparse file, to `bytes` on disk where s3rver keeps it. */
async function storedObjectOf(key: string, bytes: number): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'x' }));
  await fs.promises.truncate(path.join(dataDir, 's3', BUCKET, `${key}._S3rver_object`), bytes);
}

/** S3's error code of a call that must fail. */
async function errorOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (err) {
    return (err as Error).name;
  }
  throw new Error('the call succeeded');
}

const newUpload = async (key: string) =>
  (await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }))).UploadId!;

describe('local S3 refuses a single request over 5 GiB, as S3 does, before storing anything', () => {
  test('a PutObject of 5 GiB and a byte is EntityTooLarge, and its body is never sent', async () => {
    const { body, read } = countingBody(LIMIT + 1);
    const put = s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'huge', Body: body, ContentLength: LIMIT + 1 }),
    );
    expect(await errorOf(put)).toBe('EntityTooLarge');
    expect(read()).toBeLessThan(16 * MiB);
    expect(await errorOf(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'huge' })))).toBe('NotFound');
  });

  test('an UploadPart of 5 GiB and a byte is EntityTooLarge', async () => {
    const uploadId = await newUpload('huge-parts');
    const { body, read } = countingBody(LIMIT + 1);
    const part = s3.send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: 'huge-parts',
        UploadId: uploadId,
        PartNumber: 1,
        Body: body,
        ContentLength: LIMIT + 1,
      }),
    );
    expect(await errorOf(part)).toBe('EntityTooLarge');
    expect(read()).toBeLessThan(16 * MiB);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'huge-parts', UploadId: uploadId }));
  });

  test('a client that sends its body at once gets the answer with the sizes, and nothing is stored', async () => {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = http.request(`${endpoint}/${BUCKET}/streamed`, {
        method: 'PUT',
        headers: { 'content-length': String(LIMIT + 1) },
      });
      request.on('response', (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode!, body }));
      });
      request.on('error', reject);
      request.write(Buffer.alloc(64 * 1024));
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toContain('<Code>EntityTooLarge</Code>');
    expect(answer.body).toContain(
      `<ProposedSize>${LIMIT + 1}</ProposedSize><MaxSizeAllowed>${LIMIT}</MaxSizeAllowed>`,
    );
    expect(await errorOf(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'streamed' })))).toBe(
      'NotFound',
    );
  });

  test('a PutObject without a length is MissingContentLength', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const request = http.request(`${endpoint}/${BUCKET}/unsized`, { method: 'PUT' });
      request.on('response', (response) => (response.resume(), resolve(response.statusCode!)));
      request.on('error', reject);
      // Written before it ends: Node sends the body chunked, with no content-length.
      request.write('a body of unknown length');
      request.end();
    });
    expect(status).toBe(411);
  });

  test('a CopyObject of a source over 5 GiB is InvalidRequest; a smaller one is copied', async () => {
    await storedObjectOf('big-source', LIMIT + 1);
    const copy = s3.send(
      new CopyObjectCommand({ Bucket: BUCKET, Key: 'big-copy', CopySource: `${BUCKET}/big-source` }),
    );
    expect(await errorOf(copy)).toBe('InvalidRequest');
    expect(await errorOf(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'big-copy' })))).toBe(
      'NotFound',
    );

    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'small-source', Body: 'small' }));
    await s3.send(
      new CopyObjectCommand({ Bucket: BUCKET, Key: 'small-copy', CopySource: `${BUCKET}/small-source` }),
    );
    const copied = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'small-copy' }));
    expect(await copied.Body!.transformToString()).toBe('small');
  });

  test('an UploadPartCopy of more than 5 GiB is InvalidRequest, whole source or range', async () => {
    await storedObjectOf('big-part-source', LIMIT + MiB);
    const uploadId = await newUpload('big-part-copy');
    const copyPart = (range?: string) =>
      s3.send(
        new UploadPartCopyCommand({
          Bucket: BUCKET,
          Key: 'big-part-copy',
          UploadId: uploadId,
          PartNumber: 1,
          CopySource: `${BUCKET}/big-part-source`,
          CopySourceRange: range,
        }),
      );
    expect(await errorOf(copyPart())).toBe('InvalidRequest');
    expect(await errorOf(copyPart(`bytes=0-${LIMIT}`))).toBe('InvalidRequest');
    await s3.send(
      new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'big-part-copy', UploadId: uploadId }),
    );
  });
});

describe('local S3 copies parts (UploadPartCopy), which s3rver lacks', () => {
  const source = randomBytes(12 * MiB);
  beforeAll(() => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'parts-source', Body: source })));

  const copyPart = (uploadId: string, partNumber: number, range: string, ifMatch?: string) =>
    s3.send(
      new UploadPartCopyCommand({
        Bucket: BUCKET,
        Key: 'parts-copy',
        UploadId: uploadId,
        PartNumber: partNumber,
        CopySource: `${BUCKET}/parts-source`,
        CopySourceRange: range,
        CopySourceIfMatch: ifMatch,
      }),
    );

  test('ranges of a source become parts, and the completed object is the source', async () => {
    const uploadId = await newUpload('parts-copy');
    const ranges = [
      `bytes=0-${5 * MiB - 1}`,
      `bytes=${5 * MiB}-${10 * MiB - 1}`,
      `bytes=${10 * MiB}-${12 * MiB - 1}`,
    ];
    const parts = [];
    for (const [i, range] of ranges.entries()) {
      const { CopyPartResult } = await copyPart(uploadId, i + 1, range);
      parts.push({ PartNumber: i + 1, ETag: CopyPartResult!.ETag });
    }
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'parts-copy',
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    const copied = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'parts-copy' }));
    const bytes = Buffer.from(await copied.Body!.transformToByteArray());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(
      createHash('sha256').update(source).digest('hex'),
    );
  });

  test('a range beyond the source, a stale ETag or a missing source is refused', async () => {
    const uploadId = await newUpload('parts-copy');
    expect(await errorOf(copyPart(uploadId, 1, `bytes=0-${12 * MiB}`))).toBe('InvalidArgument');
    expect(await errorOf(copyPart(uploadId, 1, 'bytes=0-9', '"0123456789abcdef0123456789abcdef"'))).toBe(
      'PreconditionFailed',
    );
    const missing = s3.send(
      new UploadPartCopyCommand({
        Bucket: BUCKET,
        Key: 'parts-copy',
        UploadId: uploadId,
        PartNumber: 1,
        CopySource: `${BUCKET}/no-such-source`,
      }),
    );
    expect(await errorOf(missing)).toBe('NoSuchKey');
    await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'parts-copy', UploadId: uploadId }));
  });

  test('a part under 5 MiB that is not the last is EntityTooSmall when the upload completes', async () => {
    const uploadId = await newUpload('parts-copy');
    const first = await copyPart(uploadId, 1, `bytes=0-${MiB - 1}`);
    const second = await copyPart(uploadId, 2, `bytes=${MiB}-${2 * MiB - 1}`);
    const complete = s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'parts-copy-small',
        UploadId: uploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: first.CopyPartResult!.ETag },
            { PartNumber: 2, ETag: second.CopyPartResult!.ETag },
          ],
        },
      }),
    );
    expect(await errorOf(complete)).toBe('EntityTooSmall');
    await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'parts-copy', UploadId: uploadId }));
  });
});
