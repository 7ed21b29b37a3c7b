import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { findContainerEngine } from '../../local/jobs/container-engine';
import { buildNodeImage } from '../../local/jobs/node-image-builder';
import { NO_CONTAINER_ENGINE } from '../../local/local-options';
import { LocalPlatform } from '../../local/local-platform';
import { apiClient } from '../helpers/api-client';
import { completedUpload, endedJob } from '../helpers/api-flows';
import { startTestPlatform } from '../helpers/local-platform-fixture';
import { modelTarball } from '../../packages/image-io/test/helpers/tar-archive';

let platform: LocalPlatform;
let call: ReturnType<typeof apiClient>;
let image: string;
const alice = 'dev-alice';

const weights = modelTarball([
  { name: 'weights/', type: '5' },
  { name: 'weights/model.txt', content: 'the weights' },
  { name: 'latest', type: '2', linkName: 'weights/model.txt' },
]);
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

beforeAll(async () => {
  const engine = findContainerEngine();
  if (!engine) throw new Error(NO_CONTAINER_ENGINE);
  image = await buildNodeImage(engine, {
    tag: 'localhost/test-model-reader:latest',
    files: {
      '/opt/algorithm/main.js': path.join(__dirname, 'fixtures/model-reader.js'),
      // What an image may bundle at the model's place itself.
      '/opt/ml/model/bundled.txt': path.join(__dirname, 'fixtures/model-reader.js'),
    },
    user: '1000:1000',
    entrypoint: ['/usr/local/bin/node', '/opt/algorithm/main.js'],
  });
  platform = await startTestPlatform({}, { jobs: 'run', jobGraceSeconds: 1 });
  call = apiClient(platform.urls.api);
}, 120_000);

afterAll(() => platform?.stop());

async function algorithm(): Promise<string> {
  const created = await call('POST', '/v1/algorithms', {
    token: alice,
    body: {
      title: 'Model reader',
      image,
      interfaces: [
        {
          inputs: [{ slug: 'note', kind: 'json', relativePath: 'note.json' }],
          outputs: [{ slug: 'results', kind: 'json', relativePath: 'results.json' }],
        },
      ],
    },
  });
  expect(created.status).toBe(201);
  return created.body.id;
}

/** A model of the algorithm, validated and made active. */
async function activeModel(algorithmId: string): Promise<string> {
  const uploadId = await completedUpload(call, alice, 'model.tar.gz', weights);
  const params = { algorithmId };
  const created = await call('POST', '/v1/algorithms/{algorithmId}/models', {
    token: alice,
    params,
    body: { uploadId },
  });
  await platform.functions.get('algorithms/validate-algorithm-models').invoke({});
  const activated = await call('POST', '/v1/algorithms/{algorithmId}/models/{modelId}/activate', {
    token: alice,
    params: { algorithmId, modelId: created.body.id },
  });
  expect(activated.status).toBe(200);
  return created.body.id;
}

async function finishedJob(algorithmId: string) {
  const submitted = await call('POST', '/v1/jobs', {
    token: alice,
    body: { algorithm: algorithmId, inputs: [{ socket: 'note', value: 'hello' }] },
  });
  expect(submitted.status).toBe(201);
  return endedJob(call, alice, submitted.body.id);
}

const results = (job: { outputs: { socket: string; value?: unknown }[] }) =>
  job.outputs.find((o) => o.socket === 'results')?.value;

describe("an algorithm's model in its jobs", () => {
  test('is extracted at /opt/ml/model, readable and unchangeable, and the job records which model it ran with', async () => {
    const algorithmId = await algorithm();
    const modelId = await activeModel(algorithmId);
    const job = await finishedJob(algorithmId);
    expect(job).toMatchObject({ status: 'Succeeded', model: { id: modelId, sha256: sha256(weights) } });
    expect(results(job)).toEqual({
      present: true,
      listing: ['latest', 'weights'],
      weights: 'the weights',
      newFile: 'EROFS',
      overwrite: 'EROFS',
      remove: 'EROFS',
    });
    const read = await call('GET', '/v1/jobs/{jobId}', { token: alice, params: { jobId: job.id } });
    expect(read.body.model).toEqual({ id: modelId, sha256: sha256(weights) });
  });

  test("without an active model, /opt/ml/model is the image's own, as on grand-challenge", async () => {
    const job = await finishedJob(await algorithm());
    expect(job.status).toBe('Succeeded');
    expect(job.model).toBeUndefined();
    // The image's folder is root's: its non-root user cannot write there.
    expect(results(job)).toMatchObject({ present: true, listing: ['bundled.txt'], newFile: 'EACCES' });
  });

  test('a model changed since it was validated fails the job, naming the model', async () => {
    const algorithmId = await algorithm();
    const modelId = await activeModel(algorithmId);
    const s3 = new S3Client({ forcePathStyle: true });
    await s3.send(
      new PutObjectCommand({
        Bucket: platform.settings.imagingBucket,
        Key: `algorithms/${algorithmId}/models/${modelId}.tar.gz`,
        // As many entries and bytes as validated, so that only its SHA-256 tells.
        Body: modelTarball([
          { name: 'weights/', type: '5' },
          { name: 'weights/model.txt', content: 'THE WEIGHTS' },
          { name: 'latest', type: '2', linkName: 'weights/model.txt' },
        ]),
      }),
    );
    s3.destroy();
    const job = await finishedJob(algorithmId);
    expect(job.status).toBe('Failed');
    expect(job.statusReason).toContain(`model ${modelId}: the model's SHA-256 is`);
    expect(job.statusReason).toContain(`not the ${sha256(weights)} it was validated with`);
  });
});
