import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { LocalPlatform } from '../../local/local-platform';
import { buildZip } from '../../packages/image-io/test/helpers/zip-builder';
import { apiClient, INVALID_BODY, UNCHECKED_BODY } from '../helpers/api-client';
import { completedUpload as uploadThroughApi, settledImage } from '../helpers/api-flows';
import { startTestPlatform } from '../helpers/local-platform-fixture';

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

const completedUpload = (token: string, filename?: string, content?: string | Buffer) =>
  uploadThroughApi(call, token, filename, content);

async function imageCount(): Promise<number> {
  const { Count } = await documents.send(
    new ScanCommand({ TableName: platform.settings.imagesTable, Select: 'COUNT' }),
  );
  return Count!;
}

const settled = (token: string, imageId: string) => settledImage(call, token, imageId);

/** Where alice's raw uploads live. */
const rawKeyOf = (uploadId: string) => `uploads/${platform.devUsers[0].claims.sub}/${uploadId}`;

const MHA_2X2 = Buffer.concat([
  Buffer.from(
    'ObjectType = Image\nNDims = 2\nDimSize = 2 2\nElementSpacing = 0.5 0.5\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n',
  ),
  Buffer.from([0, 1, 2, 3]),
]);

describe('images', () => {
  test('completed uploads become a Queued image; files that hold no image end it Failed with a reason each', async () => {
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
    // The local converter then takes the message from the queue: these files hold no image.
    const done = await settled(alice, created.body.id);
    expect(done).toMatchObject({
      status: 'Failed',
      statusDetail: 'No image could be made from the files; see errors',
      errors: [
        { filename: 'slice-1.dcm', reason: 'not a DICOM Part 10 file (no DICM marker at byte 128)' },
        { filename: 'slice-2.dcm', reason: 'not a DICOM Part 10 file (no DICM marker at byte 128)' },
      ],
    });
    expect(done.downloadUrl).toBeUndefined();
  });

  test('an uploaded image is converted, its raw upload removed, and served by the CloudFront stand-in', async () => {
    const upload = await completedUpload(alice, 'tiny.mha', MHA_2X2);
    const created = await call('POST', '/v1/images', { token: alice, body: { uploads: [upload] } });
    const done = await settled(alice, created.body.id);
    expect(done).toMatchObject({
      status: 'Succeeded',
      statusDetail: 'Converted',
      errors: [],
      metadata: { size: [2, 2], spacing: [0.5, 0.5], componentType: 'uint8', components: 1 },
    });
    expect(
      done.downloadUrl.startsWith(
        `${platform.urls.cloudfront}/images/${created.body.id}/${created.body.id}.mha?`,
      ),
    ).toBe(true);
    const download = await fetch(done.downloadUrl);
    const bytes = Buffer.from(await download.arrayBuffer());
    expect(download.status).toBe(200);
    expect(bytes.toString('latin1')).toMatch(/^ObjectType = Image\nNDims = 2\n/);
    expect(Date.parse(done.downloadUrlExpiresAt) - Date.now()).toBeGreaterThan(290_000);

    // The raw upload goes by a queue message of its own, after the image is recorded.
    const s3 = new S3Client({ forcePathStyle: true });
    const rawState = () =>
      s3.send(new HeadObjectCommand({ Bucket: platform.settings.imagingBucket, Key: rawKeyOf(upload) })).then(
        () => 'kept',
        () => 'removed',
      );
    let raw = await rawState();
    for (let attempt = 0; attempt < 200 && raw === 'kept'; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      raw = await rawState();
    }
    s3.destroy();
    expect(raw).toBe('removed');
  });
});

describe('names as users choose them', () => {
  test('an upload named with 255 four-byte characters converts; the image keeps the name and is stored under its id', async () => {
    const filename = `${'😀'.repeat(251)}.mha`;
    const upload = await completedUpload(alice, filename, MHA_2X2);
    const created = await call('POST', '/v1/images', { token: alice, body: { uploads: [upload] } });
    const done = await settled(alice, created.body.id);
    expect(done).toMatchObject({ name: filename, status: 'Succeeded', files: [{ filename }] });
    expect(new URL(done.downloadUrl).pathname).toBe(`/images/${done.id}/${done.id}.mha`);
    expect((await fetch(done.downloadUrl)).status).toBe(200);
  });

  test('images made from zip entries with names of any length are stored under their ids', async () => {
    const series = (n: number) => ({
      name: `${'€'.repeat(300)}/${'ü'.repeat(200)}-${n}.mha`,
      content: MHA_2X2,
    });
    const upload = await completedUpload(alice, 'series.zip', buildZip([series(1), series(2)]));
    const created = await call('POST', '/v1/images', { token: alice, body: { uploads: [upload] } });
    const done = await settled(alice, created.body.id);
    expect(done).toMatchObject({ status: 'Succeeded', errors: [] });
    expect(done.siblings).toHaveLength(1);
    const sibling = await settled(alice, done.siblings[0].id);
    expect(sibling.name).toBe(`${'ü'.repeat(200)}-2.mha`);
    for (const image of [done, sibling]) {
      expect(new URL(image.downloadUrl).pathname).toBe(`/images/${image.id}/${image.id}.mha`);
      expect((await fetch(image.downloadUrl)).status).toBe(200);
    }
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
    const imagesBefore = await imageCount();
    const refused = await call('POST', '/v1/images', {
      token: alice,
      body: { uploads: [good, pending.body.id] },
    });
    expect(refused.status).toBe(409);
    expect(await imageCount()).toBe(imagesBefore);
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
  ])(
    'a request with %s is refused by API Gateway, and by the handler naming it',
    async (_, body, message) => {
      expect(await call('POST', '/v1/images', { token: alice, body })).toEqual(INVALID_BODY);
      const response = await call('POST', '/v1/images', { token: alice, body, ...UNCHECKED_BODY });
      expect(response.status).toBe(400);
      expect(response.body.error.message).toMatch(message);
    },
  );
});
