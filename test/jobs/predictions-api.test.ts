import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { EventBridgeEvent } from 'aws-lambda';
import { createHash, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BatchJobDetail } from '../../lambda/contracts/batch-job-state-change';
import { signResult } from '../../lambda/jobs/result-record';
import { MAX_PREDICTIONS } from '../../lambda/jobs/schemas';
import { LocalPlatform } from '../../local/local-platform';
import { apiClient, INVALID_BODY } from '../helpers/api-client';
import { endedJob, settledImage } from '../helpers/api-flows';
import { startTestPlatform } from '../helpers/local-platform-fixture';

let platform: LocalPlatform;
let call: ReturnType<typeof apiClient>;
let documents: DynamoDBDocumentClient;
let s3: S3Client;
let sub: Record<string, string>;
const alice = 'dev-alice';
const carol = 'dev-carol';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const digest = () => randomUUID().replace(/-/g, '').padEnd(64, '0');

beforeAll(async () => {
  platform = await startTestPlatform();
  call = apiClient(platform.urls.api);
  documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  s3 = new S3Client({ forcePathStyle: true });
  sub = Object.fromEntries(platform.devUsers.map((u) => [u.token, u.claims.sub]));
});

afterAll(async () => {
  documents.destroy();
  s3.destroy();
  await platform.stop();
});

const bucket = () => platform.settings.imagingBucket;

async function put(key: string, body: string) {
  await s3.send(new PutObjectCommand({ Bucket: bucket(), Key: key, Body: body }));
}

async function read(key: string): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket(), Key: key }));
  return object.Body!.transformToString();
}

/** An image of `token`'s user as the converter leaves it. */
async function convertedImage(token: string): Promise<string> {
  const id = randomUUID();
  const now = new Date().toISOString();
  await put(`images/${id}/${id}.mha`, 'ct');
  await documents.send(
    new PutCommand({
      TableName: platform.settings.imagesTable,
      Item: {
        ...{ id, owner: sub[token], name: 'ct.mha', status: 'Succeeded', statusDetail: 'Converted' },
        ...{ files: [], errors: [], metadata: {}, outputKey: `images/${id}/${id}.mha` },
        ...{ createdAt: now, updatedAt: now },
      },
    }),
  );
  return id;
}

const threshold = {
  inputs: [
    { slug: 'ct-image', kind: 'image', relativePath: 'images/ct' },
    { slug: 'threshold', kind: 'json', relativePath: 'threshold.json' },
  ],
  outputs: [
    { slug: 'mask', kind: 'image', relativePath: 'images/mask' },
    { slug: 'results', kind: 'json', relativePath: 'results.json' },
    { slug: 'notes', kind: 'txt', relativePath: 'notes.txt' },
  ],
};

/** An evaluation: a value in, metrics out, run over predictions. */
const evaluation = {
  inputs: [{ slug: 'expected', kind: 'json', relativePath: 'expected.json' }],
  outputs: [{ slug: 'metrics', kind: 'json', relativePath: 'metrics.json' }],
};

async function algorithmOf(token: string, algorithmInterface: object): Promise<string> {
  const created = await call('POST', '/v1/algorithms', {
    token,
    body: {
      title: 'Algorithm',
      interfaces: [algorithmInterface],
      gpu: false,
      image: `123456789012.dkr.ecr.eu-central-1.amazonaws.com/a@sha256:${digest()}`,
    },
  });
  expect(created.status).toBe(201);
  return created.body.id;
}

function batchEvent(jobId: string, batchJobId: string, detail: Partial<BatchJobDetail>) {
  return {
    'detail-type': 'Batch Job State Change',
    source: 'aws.batch',
    detail: { jobId: batchJobId, jobName: jobId, jobQueue: 'local-cpu-jobs', status: 'RUNNING', ...detail },
  } as EventBridgeEvent<'Batch Job State Change', BatchJobDetail>;
}

/** A thresholding job of `token`'s user, Queued. */
async function queuedJob(token: string) {
  const algorithm = await algorithmOf(token, threshold);
  const submitted = await call('POST', '/v1/jobs', {
    token,
    body: {
      algorithm,
      inputs: [
        { socket: 'ct-image', image: await convertedImage(token) },
        { socket: 'threshold', value: 100 },
      ],
    },
  });
  expect(submitted.status).toBe(201);
  return submitted.body.id as string;
}

/**
 * A thresholding job of `token`'s user that ran as the runner and Batch report it: its outputs and
 * signed result record stored, then its start and success; its mask converted.
 */
async function succeededJob(token: string) {
  const id = await queuedJob(token);
  const batchJob = platform.batch.jobs.find((j) => j.jobName === id)!;
  const onEvent = (detail: Partial<BatchJobDetail>) =>
    platform.functions.get('jobs/batch-job-state-change').invoke(batchEvent(id, batchJob.jobId, detail));
  const mask =
    'ObjectType = Image\nNDims = 2\nDimSize = 2 2\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n\x00\x01\x01\x00';
  const files = [
    { path: 'images/mask/output.mha', body: mask },
    { path: 'results.json', body: '{"foreground": 2}' },
    { path: 'notes.txt', body: 'two voxels' },
  ];
  const outputs = [];
  for (const [position, file] of files.entries()) {
    const key = `jobs/${id}/outputs/${position}`;
    await put(key, file.body);
    outputs.push({ path: file.path, key, bytes: file.body.length, sha256: sha256(file.body) });
  }
  const record = { jobId: id, returnCode: 0, execDuration: 3, timedOut: false, outputs };
  await put(`jobs/${id}/result.json`, signResult(record, batchJob.environment.RESULT_SIGNING_KEY));
  await onEvent({ status: 'RUNNING', startedAt: Date.parse('2026-01-02T03:04:05Z') });
  await onEvent({
    status: 'SUCCEEDED',
    attempts: [{ container: { exitCode: 0 } }],
    stoppedAt: Date.parse('2026-01-02T03:04:35.5Z'),
  });
  // Parsing outputs until the mask is converted.
  const job = await endedJob(call, token, id);
  expect(job.status).toBe('Succeeded');
  const maskImage = job.outputs.find((o: { socket: string }) => o.socket === 'mask').image as string;
  expect((await settledImage(call, token, maskImage)).status).toBe('Succeeded');
  return { id, maskImage };
}

async function submitEvaluation(token: string, predictions: unknown, algorithm?: string) {
  return call('POST', '/v1/jobs', {
    token,
    body: {
      algorithm: algorithm ?? (await algorithmOf(token, evaluation)),
      inputs: [{ socket: 'expected', value: 2 }],
      predictions,
    },
  });
}

async function jobCount(): Promise<number> {
  const { Count } = await documents.send(
    new ScanCommand({ TableName: platform.settings.jobsTable, Select: 'COUNT' }),
  );
  return Count!;
}

describe('a job that evaluates other jobs (predictions)', () => {
  test("its manifest places each prediction's outputs under <job id>/output/, and the staging job copies them", async () => {
    const first = await succeededJob(alice);
    const second = await succeededJob(alice);
    const submitted = await submitEvaluation(alice, [second.id, first.id]);
    expect(submitted.status).toBe(201);
    const id = submitted.body.id as string;
    expect(submitted.body.predictions).toEqual([second.id, first.id]);
    const shown = await call('GET', '/v1/jobs/{jobId}', { token: alice, params: { jobId: id } });
    expect(shown.body.predictions).toEqual([second.id, first.id]);

    const manifest = JSON.parse(await read(`jobs/${id}/inputs.json`));
    const placed = (prediction: { id: string; maskImage: string }, firstCopy: number) => ({
      jobId: prediction.id,
      startedAt: '2026-01-02T03:04:05.000Z',
      stoppedAt: '2026-01-02T03:04:35.500Z',
      inputs: [
        { socket: threshold.inputs[0], path: expect.stringMatching(/^images\/ct\/.+\.mha$/) },
        { socket: threshold.inputs[1], path: 'threshold.json', value: 100 },
      ],
      outputs: [
        {
          socket: threshold.outputs[0],
          // The converted image under its own name, as grand-challenge places the image it imported.
          path: `${prediction.id}/output/images/mask/${prediction.maskImage}.mha`,
          key: `jobs/${id}/inputs/predictions/${firstCopy}`,
          source: { key: `images/${prediction.maskImage}/${prediction.maskImage}.mha` },
          image: { pk: prediction.maskImage, name: 'output.mha' },
        },
        {
          socket: threshold.outputs[1],
          path: `${prediction.id}/output/results.json`,
          value: { foreground: 2 },
        },
        {
          socket: threshold.outputs[2],
          path: `${prediction.id}/output/notes.txt`,
          key: `jobs/${id}/inputs/predictions/${firstCopy + 1}`,
          source: { key: `jobs/${prediction.id}/outputs/2`, bytes: 10 },
        },
      ],
    });
    expect(manifest.predictions).toMatchObject([placed(second, 0), placed(first, 2)]);
    // What the prediction's inputs were read from is not the evaluation's to read.
    expect(manifest.predictions[0].inputs[0]).not.toHaveProperty('source');

    // The staging job, with its own role, copies the files under the evaluation's inputs.
    const staging = platform.batch.jobs.find((j) => j.jobName === `${id}-inputs`)!;
    await platform.batch.settled();
    expect(staging.status).toBe('SUCCEEDED');
    expect(await read(`jobs/${id}/inputs/predictions/3`)).toBe('two voxels');
    expect(await read(`jobs/${id}/inputs/predictions/2`)).toMatch(/^ObjectType = Image/);
  });

  test('a job that is not Succeeded is refused, naming it, and nothing is created', async () => {
    const done = await succeededJob(alice);
    const queued = await queuedJob(alice);
    const algorithm = await algorithmOf(alice, evaluation);
    const before = { jobs: await jobCount(), batch: platform.batch.jobs.length };
    const refused = await submitEvaluation(alice, [done.id, queued], algorithm);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toBe(
      `job ${queued} named in predictions is Queued; only Succeeded jobs can be predictions`,
    );
    expect({ jobs: await jobCount(), batch: platform.batch.jobs.length }).toEqual(before);
  });

  test("another user's job and an unknown job are refused alike, naming the id", async () => {
    const carols = await succeededJob(carol);
    const unknown = randomUUID();
    const algorithm = await algorithmOf(alice, evaluation);
    const before = await jobCount();
    for (const id of [carols.id, unknown]) {
      const refused = await submitEvaluation(alice, [id], algorithm);
      expect(refused.status).toBe(404);
      expect(refused.body.error.message).toBe(`job ${id} named in predictions not found`);
    }
    expect(await jobCount()).toBe(before);
  });

  test('an image output not converted is refused, naming the job and the output', async () => {
    const done = await succeededJob(alice);
    await documents.send(
      new UpdateCommand({
        TableName: platform.settings.imagesTable,
        Key: { id: done.maskImage },
        UpdateExpression: 'SET #status = :failed',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':failed': 'Failed' },
      }),
    );
    const refused = await submitEvaluation(alice, [done.id]);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toBe(
      `output "mask" of job ${done.id} named in predictions is image ${done.maskImage}, which is Failed; it can be a prediction once converted`,
    );
  });

  test(`more than ${MAX_PREDICTIONS} jobs, a job given twice, or none are refused before anything is read`, async () => {
    const algorithm = await algorithmOf(alice, evaluation);
    const before = await jobCount();
    const many = Array.from({ length: MAX_PREDICTIONS + 1 }, () => randomUUID());
    expect(await submitEvaluation(alice, many, algorithm)).toEqual(INVALID_BODY);
    expect(await submitEvaluation(alice, [], algorithm)).toEqual(INVALID_BODY);
    const twice = randomUUID();
    const repeated = await submitEvaluation(alice, [twice, twice], algorithm);
    expect(repeated.status).toBe(400);
    expect(repeated.body.error.message).toBe(`job ${twice} is given twice in predictions`);
    expect(await jobCount()).toBe(before);
  });

  test('the most predictions a job takes is stated by the API document and the README', async () => {
    const document = (await (await fetch(`${platform.urls.api}/v1/openapi.json`)).json()) as {
      components: { schemas: Record<string, { properties: Record<string, { description?: string }> }> };
    };
    const { predictions } = document.components.schemas.SubmitJobRequest.properties;
    expect(predictions).toMatchObject({ maxItems: MAX_PREDICTIONS });
    expect(predictions.description).toContain(`at most ${MAX_PREDICTIONS}`);
    const readme = fs.readFileSync(path.join(__dirname, '../../README.md'), 'utf8');
    expect(readme).toContain(`up to ${MAX_PREDICTIONS} (\`MAX_PREDICTIONS\``);
  });
});
