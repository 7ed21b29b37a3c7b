import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { LocalPlatform } from '../../local/local-platform';
import { apiClient } from '../helpers/api-client';
import { completedUpload } from '../helpers/api-flows';
import { startTestPlatform } from '../helpers/local-platform-fixture';
import { modelTarball, tarArchive } from '../../packages/image-io/test/helpers/tar-archive';

let platform: LocalPlatform;
let call: ReturnType<typeof apiClient>;
let s3: S3Client;
const alice = 'dev-alice';
const bob = 'dev-bob';
const carol = 'dev-carol';
let sub: Record<string, string>;
const MiB = 1024 ** 2;

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const weights = modelTarball([
  { name: 'weights/', type: '5' },
  { name: 'weights/model.txt', content: 'the weights' },
  { name: 'latest', type: '2', linkName: 'weights/model.txt' },
]);

beforeAll(async () => {
  platform = await startTestPlatform({ modelBytes: MiB, modelEntries: 20 });
  call = apiClient(platform.urls.api);
  sub = Object.fromEntries(platform.devUsers.map((u) => [u.token, u.claims.sub]));
  s3 = new S3Client({ forcePathStyle: true });
});

afterAll(async () => {
  s3.destroy();
  await platform.stop();
});

/** An algorithm of alice's, which bob may run. */
async function algorithm(): Promise<string> {
  const n = Math.floor(Math.random() * 1e9).toString(16);
  const created = await call('POST', '/v1/algorithms', {
    token: alice,
    body: {
      title: 'Segmenter',
      interfaces: [
        {
          inputs: [{ slug: 'ct-image', kind: 'image', relativePath: 'images/ct' }],
          outputs: [{ slug: 'results', kind: 'json', relativePath: 'results.json' }],
        },
      ],
      image: `123456789012.dkr.ecr.eu-central-1.amazonaws.com/segmenter@sha256:${n.padStart(64, '0')}`,
    },
  });
  await call('PUT', '/v1/algorithms/{algorithmId}/users', {
    token: alice,
    params: { algorithmId: created.body.id },
    body: { editors: [sub[alice]], users: [sub[bob]] },
  });
  return created.body.id;
}

/** Runs the validator as its schedule would. */
const validate = () =>
  platform.functions.get('algorithms/validate-algorithm-models').invoke({}) as Promise<{ validated: number }>;

async function createModel(
  algorithmId: string,
  content: Buffer,
  filename = 'model.tar.gz',
  comment?: string,
) {
  const uploadId = await completedUpload(call, alice, filename, content);
  return call('POST', '/v1/algorithms/{algorithmId}/models', {
    token: alice,
    params: { algorithmId },
    body: { uploadId, ...(comment !== undefined && { comment }) },
  });
}

async function validatedModel(algorithmId: string, content: Buffer) {
  const created = await createModel(algorithmId, content);
  expect(created.status).toBe(201);
  await validate();
  return (
    await call('GET', '/v1/algorithms/{algorithmId}/models/{modelId}', {
      token: alice,
      params: { algorithmId, modelId: created.body.id },
    })
  ).body;
}

describe('algorithm models', () => {
  test('an editor uploads a model, which is copied to its own key, validated, listed and made active', async () => {
    const algorithmId = await algorithm();
    const created = await createModel(algorithmId, weights, 'model.tar.gz', 'first weights');
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      algorithmId,
      filename: 'model.tar.gz',
      sizeBytes: weights.length,
      comment: 'first weights',
      state: 'Validating',
      active: false,
    });
    expect(created.body.sha256).toBeUndefined();
    const params = { algorithmId, modelId: created.body.id };
    // Not usable before it is validated.
    const early = await call('POST', '/v1/algorithms/{algorithmId}/models/{modelId}/activate', {
      token: alice,
      params,
    });
    expect(early.status).toBe(409);
    expect(early.body.error.message).toContain('is Validating');

    await expect(validate()).resolves.toEqual({ validated: 1 });
    const ready = await call('GET', '/v1/algorithms/{algorithmId}/models/{modelId}', {
      token: alice,
      params,
    });
    expect(ready.body).toMatchObject({
      state: 'Ready',
      sha256: sha256(weights),
      entries: 3,
      extractedBytes: 11,
    });
    const copy = await s3.send(
      new GetObjectCommand({
        Bucket: platform.settings.imagingBucket,
        Key: `algorithms/${algorithmId}/models/${created.body.id}.tar.gz`,
      }),
    );
    expect(sha256(Buffer.from(await copy.Body!.transformToByteArray()))).toBe(sha256(weights));

    const activated = await call('POST', '/v1/algorithms/{algorithmId}/models/{modelId}/activate', {
      token: alice,
      params,
    });
    expect(activated.status).toBe(200);
    expect(activated.body.activeModel).toEqual({ id: created.body.id, sha256: sha256(weights) });
    // Users see which model runs, not the models themselves.
    const asUser = await call('GET', '/v1/algorithms/{algorithmId}', { token: bob, params: { algorithmId } });
    expect(asUser.body.activeModel).toEqual({ id: created.body.id, sha256: sha256(weights) });

    // Every upload is a new model; the active one stays until another is made active.
    const second = await validatedModel(algorithmId, modelTarball([{ name: 'model.txt', content: 'newer' }]));
    expect(second.state).toBe('Ready');
    const listed = await call('GET', '/v1/algorithms/{algorithmId}/models', {
      token: alice,
      params: { algorithmId },
    });
    expect(listed.body.items).toHaveLength(2);
    expect(listed.body.items.find((m: { id: string }) => m.id === created.body.id).active).toBe(true);
    expect(listed.body.items.find((m: { id: string }) => m.id === second.id).active).toBe(false);
    const page = await call('GET', '/v1/algorithms/{algorithmId}/models', {
      token: alice,
      params: { algorithmId },
      query: { limit: '1' },
    });
    const rest = await call('GET', '/v1/algorithms/{algorithmId}/models', {
      token: alice,
      params: { algorithmId },
      query: { limit: '1', nextToken: page.body.nextToken },
    });
    expect([...page.body.items, ...rest.body.items].map((m: { id: string }) => m.id).sort()).toEqual(
      [created.body.id, second.id].sort(),
    );
  });

  test('only editors create, read, list and activate models; others do not learn of them', async () => {
    const algorithmId = await algorithm();
    const model = await validatedModel(algorithmId, weights);
    const params = { algorithmId, modelId: model.id };
    const bobsUpload = await completedUpload(call, bob, 'model.tar.gz', weights);
    const asUser = await call('POST', '/v1/algorithms/{algorithmId}/models', {
      token: bob,
      params: { algorithmId },
      body: { uploadId: bobsUpload },
    });
    expect(asUser.status).toBe(403);
    expect(
      (await call('GET', '/v1/algorithms/{algorithmId}/models', { token: bob, params: { algorithmId } }))
        .status,
    ).toBe(403);
    expect(
      (await call('GET', '/v1/algorithms/{algorithmId}/models/{modelId}', { token: bob, params })).status,
    ).toBe(403);
    expect(
      (await call('POST', '/v1/algorithms/{algorithmId}/models/{modelId}/activate', { token: bob, params }))
        .status,
    ).toBe(403);
    expect(
      (await call('GET', '/v1/algorithms/{algorithmId}/models/{modelId}', { token: carol, params })).status,
    ).toBe(404);
    // Nothing was activated by the refused calls.
    const read = await call('GET', '/v1/algorithms/{algorithmId}', { token: alice, params: { algorithmId } });
    expect(read.body.activeModel).toBeUndefined();
  });

  test("refuses an upload that is not the caller's, not an archive by name, too large, or used already", async () => {
    const algorithmId = await algorithm();
    const bobsUpload = await completedUpload(call, bob, 'model.tar.gz', weights);
    const notMine = await call('POST', '/v1/algorithms/{algorithmId}/models', {
      token: alice,
      params: { algorithmId },
      body: { uploadId: bobsUpload },
    });
    expect(notMine.status).toBe(404);

    const zip = await createModel(algorithmId, weights, 'model.zip');
    expect(zip.status).toBe(400);
    expect(zip.body.error.message).toContain('a model is a .tar.gz or .tgz archive');
    expect((await createModel(algorithmId, weights, 'weights.tgz')).status).toBe(201);

    const large = await createModel(algorithmId, Buffer.alloc(MiB + 1));
    expect(large.status).toBe(400);
    expect(large.body.error.message).toContain(`at most ${MiB} (limits.modelBytes)`);

    const uploadId = await completedUpload(call, alice, 'model.tar.gz', weights);
    const body = { uploadId };
    expect(
      (
        await call('POST', '/v1/algorithms/{algorithmId}/models', {
          token: alice,
          params: { algorithmId },
          body,
        })
      ).status,
    ).toBe(201);
    const again = await call('POST', '/v1/algorithms/{algorithmId}/models', {
      token: alice,
      params: { algorithmId },
      body,
    });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toContain(`upload ${uploadId} is already the model`);
    // Nor can the model's upload become an image, whose conversion would remove it.
    const image = await call('POST', '/v1/images', { token: alice, body: { uploads: [uploadId] } });
    expect(image.status).toBe(409);
  });

  test.each<[string, Buffer, string]>([
    [
      'a path out of the model',
      modelTarball([{ name: '../../etc/cron.d/job', content: 'x' }]),
      'leads out of the model with ".."',
    ],
    ['an absolute path', modelTarball([{ name: '/etc/passwd', content: 'x' }]), 'is an absolute path'],
    [
      'a symbolic link out of the model',
      modelTarball([{ name: 'weights', type: '2', linkName: '../../../root' }]),
      'symbolic link "weights" points outside the model',
    ],
    [
      'a file that is not gzip-compressed',
      tarArchive([{ name: 'model.txt', content: 'x' }]),
      'not a gzip-compressed tar archive',
    ],
    ['a gzip that holds no tar', gzipSync(Buffer.from('weights '.repeat(200))), 'not a tar archive'],
    [
      'more entries than limits.modelEntries',
      modelTarball(Array.from({ length: 21 }, (_, i) => ({ name: `f${i}`, content: 'x' }))),
      'more than 20 entries (limits.modelEntries)',
    ],
  ])('refuses %s at validation, with the reason, and keeps no copy', async (_, content, reason) => {
    const algorithmId = await algorithm();
    const model = await validatedModel(algorithmId, content);
    expect(model.state).toBe('Failed');
    expect(model.reason).toContain(reason);
    expect(model.sha256).toBeUndefined();
    const copy = s3.send(
      new HeadObjectCommand({
        Bucket: platform.settings.imagingBucket,
        Key: `algorithms/${algorithmId}/models/${model.id}.tar.gz`,
      }),
    );
    await expect(copy).rejects.toMatchObject({ name: 'NotFound' });
    const activate = await call('POST', '/v1/algorithms/{algorithmId}/models/{modelId}/activate', {
      token: alice,
      params: { algorithmId, modelId: model.id },
    });
    expect(activate.status).toBe(409);
    expect(activate.body.error.message).toContain('is Failed');
  });
});
