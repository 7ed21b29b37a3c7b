import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { LocalPlatform } from '../local/local-platform';
import { apiClient } from './helpers/api-client';
import { startTestPlatform } from './helpers/local-platform-fixture';

let platform: LocalPlatform;
let call: ReturnType<typeof apiClient>;
let documents: DynamoDBDocumentClient;
const alice = 'dev-alice';
const bob = 'dev-bob';

beforeAll(async () => {
  platform = await startTestPlatform();
  call = apiClient(platform.urls.api);
  documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
});

afterAll(async () => {
  documents.destroy();
  await platform.stop();
});

async function completedUpload(
  token: string,
  filename = 'ct.mha',
  content = 'ObjectType = Image\n',
): Promise<string> {
  const data = Buffer.from(content);
  const created = await call('POST', '/v1/uploads', { token, body: { filename, size: data.length } });
  const signed = await call('POST', '/v1/uploads/{uploadId}/parts', {
    token,
    params: { uploadId: created.body.id },
    body: { partNumbers: [1] },
  });
  const put = await fetch(signed.body.parts[0].url, { method: 'PUT', body: data });
  await call('POST', '/v1/uploads/{uploadId}/complete', {
    token,
    params: { uploadId: created.body.id },
    body: { parts: [{ partNumber: 1, etag: put.headers.get('etag') }] },
  });
  return created.body.id;
}

function queuedImageIds(): string[] {
  return platform.queues.messages('local-image-conversion').map((m) => JSON.parse(m.body).imageId);
}

describe('images', () => {
  test('completed uploads become a Queued image with one message on the conversion queue', async () => {
    const uploads = [
      await completedUpload(alice, 'slice-1.dcm'),
      await completedUpload(alice, 'slice-2.dcm'),
    ];
    const created = await call('POST', '/v1/images', { token: alice, body: { uploads, name: 'Chest CT' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'Chest CT',
      status: 'Queued',
      statusDetail: 'Waiting for the converter to pick up the image',
      files: [
        { uploadId: uploads[0], filename: 'slice-1.dcm', size: 19 },
        { uploadId: uploads[1], filename: 'slice-2.dcm', size: 19 },
      ],
      errors: [],
    });
    expect(queuedImageIds().filter((id) => id === created.body.id)).toHaveLength(1);

    const read = await call('GET', '/v1/images/{imageId}', {
      token: alice,
      params: { imageId: created.body.id },
    });
    expect(read.body.status).toBe('Queued');
    expect(read.body.downloadUrl).toBeUndefined();
  });

  test('a converted image comes with a signed URL that the CloudFront stand-in serves', async () => {
    const created = await call('POST', '/v1/images', {
      token: alice,
      body: { uploads: [await completedUpload(alice)] },
    });
    const id = created.body.id;
    // What the converter does when it succeeds: the output object and the record's new state.
    const outputKey = `images/${id}/ct.mha`;
    const s3 = new S3Client({ forcePathStyle: true });
    await s3.send(
      new PutObjectCommand({
        Bucket: platform.environment.IMAGING_BUCKET,
        Key: outputKey,
        Body: 'converted',
      }),
    );
    s3.destroy();
    await documents.send(
      new UpdateCommand({
        TableName: platform.environment.IMAGES_TABLE,
        Key: { id },
        UpdateExpression: 'SET #status = :s, outputKey = :k, statusDetail = :d',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':s': 'Succeeded', ':k': outputKey, ':d': 'Converted' },
      }),
    );

    const read = await call('GET', '/v1/images/{imageId}', { token: alice, params: { imageId: id } });
    expect(read.body.status).toBe('Succeeded');
    expect(read.body.downloadUrl.startsWith(`${platform.urls.cloudfront}/images/${id}/ct.mha?`)).toBe(true);
    const download = await fetch(read.body.downloadUrl);
    expect([download.status, await download.text()]).toEqual([200, 'converted']);
    expect(Date.parse(read.body.downloadUrlExpiresAt) - Date.now()).toBeGreaterThan(290_000);
  });
});

describe('images refused', () => {
  test('an upload that is not completed is refused by name', async () => {
    const pending = await call('POST', '/v1/uploads', {
      token: alice,
      body: { filename: 'p.mha', size: 10 },
    });
    const response = await call('POST', '/v1/images', { token: alice, body: { uploads: [pending.body.id] } });
    expect(response).toMatchObject({ status: 409, body: { error: { code: 'Conflict' } } });
    expect(response.body.error.message).toBe(
      `upload ${pending.body.id} is Pending; only Completed uploads become images`,
    );
  });

  test("another user's upload is as unknown as one that does not exist", async () => {
    const bobs = await completedUpload(bob);
    const response = await call('POST', '/v1/images', { token: alice, body: { uploads: [bobs] } });
    expect(response).toEqual({
      status: 404,
      body: { error: { code: 'NotFound', message: `upload ${bobs} not found` } },
    });
  });

  test('an upload belongs to one image only', async () => {
    const upload = await completedUpload(alice);
    const first = await call('POST', '/v1/images', { token: alice, body: { uploads: [upload] } });
    const second = await call('POST', '/v1/images', { token: alice, body: { uploads: [upload] } });
    expect(second.body.error.message).toBe(`upload ${upload} already belongs to image ${first.body.id}`);
  });

  test('a refusal midway releases the uploads claimed before it and queues nothing', async () => {
    const good = await completedUpload(alice);
    const pending = await call('POST', '/v1/uploads', {
      token: alice,
      body: { filename: 'p.mha', size: 10 },
    });
    const queuedBefore = queuedImageIds().length;
    const refused = await call('POST', '/v1/images', {
      token: alice,
      body: { uploads: [good, pending.body.id] },
    });
    expect(refused.status).toBe(409);
    expect(queuedImageIds()).toHaveLength(queuedBefore);
    const retried = await call('POST', '/v1/images', { token: alice, body: { uploads: [good] } });
    expect(retried.status).toBe(201);
  });

  test("another user never sees someone's image", async () => {
    const created = await call('POST', '/v1/images', {
      token: alice,
      body: { uploads: [await completedUpload(alice)] },
    });
    const response = await call('GET', '/v1/images/{imageId}', {
      token: bob,
      params: { imageId: created.body.id },
    });
    expect(response).toEqual({
      status: 404,
      body: { error: { code: 'NotFound', message: `image ${created.body.id} not found` } },
    });
  });

  test.each([
    ['no uploads', { uploads: [] }, /body\.uploads must NOT have fewer than 1 items/],
    ['an id that is not a UUID', { uploads: ['../x'] }, /body\.uploads\[0\] has characters/],
    [
      'the same upload twice',
      { uploads: ['00000000-0000-4000-8000-000000000000', '00000000-0000-4000-8000-000000000000'] },
      /duplicate/,
    ],
    [
      'an unknown field',
      { uploads: ['00000000-0000-4000-8000-000000000000'], owner: 'x' },
      /body\.owner is not a known field/,
    ],
    [
      'a name with a control character',
      { uploads: ['00000000-0000-4000-8000-000000000000'], name: 'a\u0007' },
      /body\.name has characters/,
    ],
  ])('a request with %s is a 400 naming it', async (_, body, message) => {
    const response = await call('POST', '/v1/images', { token: alice, body });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toMatch(message);
  });
});
