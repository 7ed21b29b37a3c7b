import { ScanCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { API_OPERATIONS } from '../../lambda/deployments';
import { LocalPlatform } from '../../local/local-platform';
import { checkPresignedRequest } from '../../local/services/s3-presigned-url-check';
import { apiClient, INVALID_BODY, UNCHECKED_BODY } from '../helpers/api-client';
import { startTestPlatform } from '../helpers/local-platform-fixture';

const MiB = 1024 ** 2;
const PART = 5 * MiB;
const UNVERIFIED_QUOTA = 12 * MiB;

let platform: LocalPlatform;
let call: ReturnType<typeof apiClient>;
let s3: S3Client;
let dynamodb: DynamoDBClient;
const alice = 'dev-alice';
const bob = 'dev-bob';
const carol = 'dev-carol';

beforeAll(async () => {
  platform = await startTestPlatform({ uploadPartBytes: PART, uploadBytesUnverifiedUser: UNVERIFIED_QUOTA });
  call = apiClient(platform.urls.api);
  s3 = new S3Client({ forcePathStyle: true });
  dynamodb = new DynamoDBClient({});
});

afterAll(async () => {
  s3.destroy();
  dynamodb.destroy();
  await platform.stop();
});

/** Uploads `data` through the API the way a client does: create, PUT each part, complete. */
async function upload(token: string, filename: string, data: Buffer) {
  const created = await call('POST', '/v1/uploads', { token, body: { filename, size: data.length } });
  expect(created.status).toBe(201);
  const { id, partCount, partSize } = created.body;
  const partNumbers = Array.from({ length: partCount }, (_, i) => i + 1);
  const signed = await call('POST', '/v1/uploads/{uploadId}/parts', {
    token,
    params: { uploadId: id },
    body: { partNumbers },
  });
  expect(signed.status).toBe(200);
  const parts = [];
  for (const part of signed.body.parts) {
    const bytes = data.subarray((part.partNumber - 1) * partSize, part.partNumber * partSize);
    expect(bytes.length).toBe(part.size);
    const put = await fetch(part.url, { method: 'PUT', body: bytes });
    expect(put.status).toBe(200);
    parts.push({ partNumber: part.partNumber, etag: put.headers.get('etag')! });
  }
  return { id, parts, created: created.body };
}

async function uploadRecordCount(): Promise<number> {
  const { Count } = await dynamodb.send(
    new ScanCommand({ TableName: platform.settings.uploadsTable, Select: 'COUNT' }),
  );
  return Count!;
}

async function objectKeys(): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: platform.settings.imagingBucket }));
  return (listed.Contents ?? []).map((o) => o.Key!);
}

describe('uploads', () => {
  test('a file of several parts uploads, completes and is readable as one object', async () => {
    const data = randomBytes(2 * PART + 1234);
    const { id, parts, created } = await upload(alice, 'chest ct.mha', data);
    expect(created).toMatchObject({
      filename: 'chest ct.mha',
      size: data.length,
      partSize: PART,
      partCount: 3,
    });

    const completed = await call('POST', '/v1/uploads/{uploadId}/complete', {
      token: alice,
      params: { uploadId: id },
      body: { parts },
    });
    expect(completed.body).toMatchObject({ id, status: 'Completed' });
    const read = await call('GET', '/v1/uploads/{uploadId}', { token: alice, params: { uploadId: id } });
    expect(read.body.status).toBe('Completed');

    const key = (await objectKeys()).find((k) => k.includes(id))!;
    expect(key).toBe(`uploads/${platform.devUsers[0].claims.sub}/${id}`);
    const object = await s3.send(new GetObjectCommand({ Bucket: platform.settings.imagingBucket, Key: key }));
    expect(Buffer.from(await object.Body!.transformToByteArray()).equals(data)).toBe(true);
  });

  test('completing with a missing part, a wrong ETag or twice is refused with the reason', async () => {
    const data = randomBytes(PART + 10);
    const { id, parts } = await upload(alice, 'a.nii', data);
    const complete = (body: unknown) =>
      call('POST', '/v1/uploads/{uploadId}/complete', { token: alice, params: { uploadId: id }, body });

    expect((await complete({ parts: [parts[0]] })).body.error.message).toBe(
      `part 2 is missing: upload ${id} has 2 parts`,
    );
    const wrongEtag = await complete({
      parts: [parts[0], { ...parts[1], etag: '"0123456789abcdef0123456789abcdef"' }],
    });
    expect(wrongEtag.status).toBe(400);
    expect(wrongEtag.body.error.message).toMatch(/InvalidPart/);
    expect((await complete({ parts })).status).toBe(200);
    const again = await complete({ parts });
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'Conflict' } } });
    const abortCompleted = await call('DELETE', '/v1/uploads/{uploadId}', {
      token: alice,
      params: { uploadId: id },
    });
    expect(abortCompleted.status).toBe(409);
  });

  test('part URLs exist only for the parts of the upload', async () => {
    const created = await call('POST', '/v1/uploads', {
      token: alice,
      body: { filename: 'b.nrrd', size: 100 },
    });
    const beyond = await call('POST', '/v1/uploads/{uploadId}/parts', {
      token: alice,
      params: { uploadId: created.body.id },
      body: { partNumbers: [2] },
    });
    expect(beyond.body.error.message).toBe(`part 2 does not exist: upload ${created.body.id} has 1 parts`);
  });
});

describe('names as users choose them', () => {
  const complete = (uploadId: string, parts: unknown) =>
    call('POST', '/v1/uploads/{uploadId}/complete', { token: alice, params: { uploadId }, body: { parts } });
  const record = async (id: string) =>
    (
      await DynamoDBDocumentClient.from(dynamodb).send(
        new GetCommand({ TableName: platform.settings.uploadsTable, Key: { id } }),
      )
    ).Item!;

  test('a name of 255 four-byte characters uploads and completes; the key is made of ids, the name kept as data', async () => {
    const filename = `${'😀'.repeat(251)}.mha`;
    expect(Buffer.byteLength(filename)).toBe(1008);
    const data = randomBytes(100);
    const { id, parts } = await upload(alice, filename, data);
    const completed = await complete(id, parts);
    expect(completed).toMatchObject({ status: 200, body: { id, filename, status: 'Completed' } });
    const key = `uploads/${platform.devUsers[0].claims.sub}/${id}`;
    expect((await record(id)).objectKey).toBe(key);
    const object = await s3.send(new GetObjectCommand({ Bucket: platform.settings.imagingBucket, Key: key }));
    expect(Buffer.from(await object.Body!.transformToByteArray()).equals(data)).toBe(true);
  });

  test('a name with the characters XML escapes completes', async () => {
    const { id, parts } = await upload(alice, `a<b>&'c".mha`, randomBytes(10));
    expect(await complete(id, parts)).toMatchObject({ status: 200, body: { status: 'Completed' } });
  });

  test('a completion whose S3 part succeeded and whose record was not written is finished by a retry', async () => {
    const data = randomBytes(PART + 10);
    const { id, parts } = await upload(alice, 'interrupted.mha', data);
    // As if the function stopped after S3 joined the parts, before it wrote the record.
    const { objectKey, s3UploadId } = await record(id);
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: platform.settings.imagingBucket,
        Key: objectKey,
        UploadId: s3UploadId,
        MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
      }),
    );
    expect((await record(id)).status).toBe('Pending');

    const retried = await complete(id, parts);
    expect(retried).toMatchObject({ status: 200, body: { id, status: 'Completed' } });
    const object = await s3.send(
      new GetObjectCommand({ Bucket: platform.settings.imagingBucket, Key: objectKey }),
    );
    expect(Buffer.from(await object.Body!.transformToByteArray()).equals(data)).toBe(true);
  });

  test('completing an upload that S3 no longer holds is a 409, and the upload is Aborted with its quota returned', async () => {
    const { id, parts } = await upload(carol, 'expired.mha', randomBytes(1000));
    const { objectKey, s3UploadId } = await record(id);
    // As the bucket's lifecycle rule does to incomplete uploads.
    await s3.send(
      new AbortMultipartUploadCommand({
        Bucket: platform.settings.imagingBucket,
        Key: objectKey,
        UploadId: s3UploadId,
      }),
    );
    const sub = platform.devUsers.find((u) => u.token === carol)!.claims.sub;
    const usage = async () =>
      (
        await DynamoDBDocumentClient.from(dynamodb).send(
          new GetCommand({ TableName: platform.settings.usageTable, Key: { userId: sub } }),
        )
      ).Item?.uploadBytes as number;
    const before = await usage();
    const completed = await call('POST', '/v1/uploads/{uploadId}/complete', {
      token: carol,
      params: { uploadId: id },
      body: { parts },
    });
    expect(completed.status).toBe(409);
    expect(completed.body.error.message).toMatch(/is gone from S3 .*it is now Aborted/);
    expect((await record(id)).status).toBe('Aborted');
    expect(await usage()).toBe(before - 1000);
  });
});

describe('part URLs', () => {
  async function signedParts(size: number, partNumbers: number[]) {
    const created = await call('POST', '/v1/uploads', {
      token: alice,
      body: { filename: 'scoped.mha', size },
    });
    const signed = await call('POST', '/v1/uploads/{uploadId}/parts', {
      token: alice,
      params: { uploadId: created.body.id },
      body: { partNumbers },
    });
    return signed.body.parts as { partNumber: number; url: string; size: number }[];
  }

  test('a part URL uploads only its own part, of its exact size', async () => {
    const [first, second] = await signedParts(PART + 100, [1, 2]);
    const otherPart = first.url.replace('partNumber=1', 'partNumber=2');
    const wrongNumber = await fetch(otherPart, { method: 'PUT', body: randomBytes(first.size) });
    expect(wrongNumber.status).toBe(403);
    expect(await wrongNumber.text()).toContain('SignatureDoesNotMatch');
    const wrongSize = await fetch(second.url, { method: 'PUT', body: randomBytes(second.size + 1) });
    expect(wrongSize.status).toBe(403);
    const longer = first.url.replace('X-Amz-Expires=3600', 'X-Amz-Expires=604800');
    expect((await fetch(longer, { method: 'PUT', body: randomBytes(first.size) })).status).toBe(403);
    expect((await fetch(second.url, { method: 'PUT', body: randomBytes(second.size) })).status).toBe(200);
  });

  test('a part URL stops working when it expires', async () => {
    const [first] = await signedParts(100, [1]);
    const url = new URL(first.url);
    const signedAt = url.searchParams.get('X-Amz-Date')!;
    const checkAt = Date.parse(
      signedAt.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
    );
    const request = {
      method: 'PUT',
      url: `${url.pathname}${url.search}`,
      headers: { host: url.host, 'content-length': '100' },
    };
    // Signed with the keys of the function that signs part URLs.
    const credentials = (accessKeyId: string) => platform.iam.credentials.secretOf(accessKeyId);
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^LOCAL\.local-Api-RestApiSignUploadPartsRole/);
    expect(checkPresignedRequest(request as never, credentials, checkAt + 3599_000)).toEqual({ ok: true });
    expect(checkPresignedRequest(request as never, credentials, checkAt + 3601_000)).toMatchObject({
      ok: false,
      message: 'Request has expired',
    });
  });
});

describe('upload quota', () => {
  test('an unverified user is refused beyond the quota and gets it back by aborting', async () => {
    const first = await call('POST', '/v1/uploads', {
      token: bob,
      body: { filename: 'one.mha', size: 10 * MiB },
    });
    expect(first.status).toBe(201);
    const refused = await call('POST', '/v1/uploads', {
      token: bob,
      body: { filename: 'two.mha', size: 5 * MiB },
    });
    expect(refused).toMatchObject({ status: 429, body: { error: { code: 'LimitExceeded' } } });
    expect(refused.body.error.message).toBe(
      `the upload quota is ${UNVERIFIED_QUOTA} bytes and ${10 * MiB} are in use; this file needs ${5 * MiB} more`,
    );
    const aborted = await call('DELETE', '/v1/uploads/{uploadId}', {
      token: bob,
      params: { uploadId: first.body.id },
    });
    expect(aborted.body.status).toBe('Aborted');
    const retried = await call('POST', '/v1/uploads', {
      token: bob,
      body: { filename: 'two.mha', size: 5 * MiB },
    });
    expect(retried.status).toBe(201);
    await call('DELETE', '/v1/uploads/{uploadId}', { token: bob, params: { uploadId: retried.body.id } });
  });

  test('concurrent uploads never pass the quota together', async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        call('POST', '/v1/uploads', { token: bob, body: { filename: `c${i}.mha`, size: 4 * MiB } }),
      ),
    );
    const accepted = results.filter((r) => r.status === 201);
    expect(accepted).toHaveLength(3);
    expect(results.filter((r) => r.status === 429)).toHaveLength(3);
    for (const r of accepted) {
      await call('DELETE', '/v1/uploads/{uploadId}', { token: bob, params: { uploadId: r.body.id } });
    }
  });

  test('a verified user has the larger quota', async () => {
    const big = await call('POST', '/v1/uploads', {
      token: carol,
      body: { filename: 'wsi.svs', size: 64 * MiB },
    });
    expect(big.status).toBe(201);
    await call('DELETE', '/v1/uploads/{uploadId}', { token: carol, params: { uploadId: big.body.id } });
  });
});

describe('uploads are private', () => {
  test("another user never sees or learns of someone's upload", async () => {
    const { id, parts } = await upload(alice, 'private.mha', randomBytes(1000));
    const absent = '00000000-0000-4000-8000-000000000000';
    for (const uploadId of [id, absent]) {
      const attempts = [
        await call('GET', '/v1/uploads/{uploadId}', { token: bob, params: { uploadId } }),
        await call('POST', '/v1/uploads/{uploadId}/parts', {
          token: bob,
          params: { uploadId },
          body: { partNumbers: [1] },
        }),
        await call('POST', '/v1/uploads/{uploadId}/complete', {
          token: bob,
          params: { uploadId },
          body: { parts },
        }),
        await call('DELETE', '/v1/uploads/{uploadId}', { token: bob, params: { uploadId } }),
      ];
      for (const attempt of attempts) {
        expect(attempt).toEqual({
          status: 404,
          body: { error: { code: 'NotFound', message: `upload ${uploadId} not found` } },
        });
      }
    }
    const own = await call('GET', '/v1/uploads/{uploadId}', { token: alice, params: { uploadId: id } });
    expect(own.body.status).toBe('Pending');
  });

  test('a request without a valid token is refused', async () => {
    expect((await call('POST', '/v1/uploads', { body: { filename: 'x', size: 1 } })).status).toBe(401);
    expect(
      (await call('POST', '/v1/uploads', { token: 'forged', body: { filename: 'x', size: 1 } })).status,
    ).toBe(401);
  });
});

describe('bad input', () => {
  const createCases: [string, { body?: unknown; rawBody?: string | Buffer }, RegExp][] = [
    ['malformed JSON', { rawBody: '{"filename": "a.mha", ' }, /not valid JSON/],
    ['an empty body', { rawBody: '' }, /needs a JSON body/],
    ['a JSON array', { body: [] }, /body must be object/],
    ['a wrong type', { body: { filename: 'a.mha', size: '10' } }, /body\.size must be integer/],
    [
      'an unknown field',
      { body: { filename: 'a.mha', size: 10, owner: 'bob' } },
      /body\.owner is not a known field/,
    ],
    ['a missing field', { body: { filename: 'a.mha' } }, /body\.size is required/],
    ['size 0', { body: { filename: 'a.mha', size: 0 } }, /body\.size must be >= 1/],
    ['a negative size', { body: { filename: 'a.mha', size: -5 } }, /body\.size must be >= 1/],
    ['a fractional size', { body: { filename: 'a.mha', size: 1.5 } }, /body\.size must be integer/],
    [
      'a path in the name',
      { body: { filename: '../../etc/passwd', size: 10 } },
      /body\.filename has characters/,
    ],
    ['a folder in the name', { body: { filename: 'a/b.mha', size: 10 } }, /body\.filename has characters/],
    ['a backslash', { body: { filename: 'a\\b.mha', size: 10 } }, /body\.filename has characters/],
    ['the name ..', { body: { filename: '..', size: 10 } }, /body\.filename has characters/],
    ['a control character', { body: { filename: 'a\u0000.mha', size: 10 } }, /body\.filename has characters/],
    [
      'a very long name',
      { body: { filename: 'a'.repeat(300), size: 10 } },
      /body\.filename must NOT have more than 255/,
    ],
    // API Gateway hands bodies on as UTF-8 text: bytes that are not UTF-8 arrive replaced.
    ['non-UTF-8 bytes', { rawBody: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]) }, /not valid JSON/],
  ];

  test.each(createCases)(
    'creating an upload with %s is refused by API Gateway, and writes nothing',
    async (_, request) => {
      const before = await uploadRecordCount();
      expect(await call('POST', '/v1/uploads', { token: bob, ...request })).toEqual(INVALID_BODY);
      expect(await uploadRecordCount()).toBe(before);
    },
  );

  test.each(createCases)(
    'creating an upload with %s as a body API Gateway does not check is a 400 from the handler naming the problem, and writes nothing',
    async (_, request, message) => {
      const before = await uploadRecordCount();
      const response = await call('POST', '/v1/uploads', { token: bob, ...request, ...UNCHECKED_BODY });
      expect(response.status).toBe(400);
      expect(response.body.error.message).toMatch(message);
      expect(await uploadRecordCount()).toBe(before);
    },
  );

  test('bytes that are not UTF-8, base64-encoded as a binary type would bring them, are a 400 from the handler', async () => {
    const operation = API_OPERATIONS.find((o) => o.operationId === 'createUpload')!;
    const result = await platform.functions.invokeOperation(operation, {
      resource: operation.path,
      path: operation.path,
      httpMethod: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]).toString('base64'),
      isBase64Encoded: true,
      requestContext: { requestId: 'direct', authorizer: { claims: platform.devUsers[1].claims } },
    });
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body).error.message).toBe('the body is not valid UTF-8');
  });

  test('a valid body over the 1 MiB that a route reads is a 413 from the handler, and writes nothing', async () => {
    const before = await uploadRecordCount();
    const response = await call('POST', '/v1/uploads', {
      token: bob,
      rawBody: `{"filename": "a.mha", "size": 10${' '.repeat(2 * MiB)}}`,
    });
    expect(response.status).toBe(413);
    expect(response.body.error.message).toMatch(/bytes; at most 1048576 are accepted/);
    expect(await uploadRecordCount()).toBe(before);
  });

  test('part numbers 0 and 10001, repeated, or too many are refused by API Gateway, and by the handler naming the problem', async () => {
    const created = await call('POST', '/v1/uploads', {
      token: alice,
      body: { filename: 'p.mha', size: 10 },
    });
    const sign = (body: unknown) =>
      call('POST', '/v1/uploads/{uploadId}/parts', {
        token: alice,
        params: { uploadId: created.body.id },
        body,
      });
    const signUnchecked = (body: unknown) =>
      call('POST', '/v1/uploads/{uploadId}/parts', {
        token: alice,
        params: { uploadId: created.body.id },
        body,
        ...UNCHECKED_BODY,
      });
    for (const partNumbers of [[0], [10001], [1, 1], []]) {
      expect([partNumbers, await sign({ partNumbers })]).toEqual([partNumbers, INVALID_BODY]);
    }
    expect((await signUnchecked({ partNumbers: [0] })).body.error.message).toBe(
      'body.partNumbers[0] must be >= 1',
    );
    expect((await signUnchecked({ partNumbers: [10001] })).body.error.message).toBe(
      'body.partNumbers[0] must be <= 10000',
    );
    expect((await signUnchecked({ partNumbers: [1, 1] })).body.error.message).toMatch(
      /must NOT have duplicate items/,
    );
    expect((await signUnchecked({ partNumbers: [] })).body.error.message).toMatch(
      /must NOT have fewer than 1 items/,
    );
    const complete = (extra = {}) =>
      call('POST', '/v1/uploads/{uploadId}/complete', {
        token: alice,
        params: { uploadId: created.body.id },
        body: { parts: [{ partNumber: 0, etag: 'abc' }] },
        ...extra,
      });
    expect(await complete()).toEqual(INVALID_BODY);
    expect((await complete(UNCHECKED_BODY)).body.error.message).toBe('body.parts[0].partNumber must be >= 1');
  });

  test('ids that are not UUIDs, path tricks and percent-encoded slashes are 400s', async () => {
    for (const id of [
      '..%2F..%2Fetc%2Fpasswd',
      '..%5C..',
      'abc',
      'A11CE000-0000-4000-8000-000000000001',
      'x'.repeat(2000),
    ]) {
      const response = await fetch(`${platform.urls.api}/v1/uploads/${id}`, {
        headers: { authorization: `Bearer ${alice}` },
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { message: string } }).error.message).toBe(
        'path parameter uploadId must be a lower-case UUID',
      );
    }
    // An encoded dot segment is resolved by URL rules before routing, as API Gateway does.
    const dotSegment = await fetch(`${platform.urls.api}/v1/uploads/%2e%2e`, {
      headers: { authorization: `Bearer ${alice}` },
    });
    expect(dotSegment.status).toBe(404);
    const badEncoding = await fetch(`${platform.urls.api}/v1/uploads/%E0%A4%A`, {
      headers: { authorization: `Bearer ${alice}` },
    });
    expect(badEncoding.status).toBe(400);
  });

  test('the embedded S3 refuses keys with dot segments, which would leave its bucket folder', async () => {
    const { PutObjectCommand } = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
    await expect(
      s3.send(
        new PutObjectCommand({
          Bucket: platform.settings.imagingBucket,
          Key: 'uploads/../../escape.txt',
          Body: 'x',
        }),
      ),
    ).rejects.toThrow('Keys with . or .. segments are refused locally.');
  });

  test('nothing from refused requests reached S3', async () => {
    const keys = await objectKeys();
    expect(keys.every((key) => /^uploads\/[0-9a-f-]{36}\/[0-9a-f-]{36}$/.test(key))).toBe(true);
  });
});

describe('abandoned uploads', () => {
  test('the sweeper aborts uploads left Pending past the limit and returns their quota', async () => {
    const stale = await call('POST', '/v1/uploads', {
      token: bob,
      body: { filename: 'left.mha', size: 3 * MiB },
    });
    const fresh = await call('POST', '/v1/uploads', {
      token: bob,
      body: { filename: 'busy.mha', size: 3 * MiB },
    });
    const documents = DynamoDBDocumentClient.from(dynamodb);
    await documents.send(
      new UpdateCommand({
        TableName: platform.settings.uploadsTable,
        Key: { id: stale.body.id },
        UpdateExpression: 'SET createdAt = :old',
        ExpressionAttributeValues: { ':old': new Date(Date.now() - 2 * 24 * 3600 * 1000).toISOString() },
      }),
    );
    const sub = platform.devUsers[1].claims.sub;
    const usage = async () =>
      ((
        await documents.send(
          new GetCommand({ TableName: platform.settings.usageTable, Key: { userId: sub } }),
        )
      ).Item?.uploadBytes as number) ?? 0;
    const before = await usage();

    // As the hourly schedule invokes it.
    const sweep = () => platform.functions.get('uploads/upload-sweeper').invoke({});
    expect(await sweep()).toEqual({ aborted: 1 });
    expect(
      (await call('GET', '/v1/uploads/{uploadId}', { token: bob, params: { uploadId: stale.body.id } })).body
        .status,
    ).toBe('Aborted');
    expect(
      (await call('GET', '/v1/uploads/{uploadId}', { token: bob, params: { uploadId: fresh.body.id } })).body
        .status,
    ).toBe('Pending');
    expect(await usage()).toBe(before - 3 * MiB);
    expect(await sweep()).toEqual({ aborted: 0 });
    await call('DELETE', '/v1/uploads/{uploadId}', { token: bob, params: { uploadId: fresh.body.id } });
  });
});

describe('OpenAPI document', () => {
  test('is served without a token and lists every route', async () => {
    const response = await call('GET', '/v1/openapi.json');
    expect(response.body.openapi).toBe('3.0.3');
    expect(Object.keys(response.body.paths)).toEqual(
      expect.arrayContaining(['/v1/uploads', '/v1/uploads/{uploadId}', '/v1/uploads/{uploadId}/parts']),
    );
  });
});
