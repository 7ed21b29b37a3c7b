import { BatchClient, UpdateJobQueueCommand } from '@aws-sdk/client-batch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient, GetCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { EventBridgeEvent } from 'aws-lambda';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { BatchJobDetail } from '../../lambda/contracts/batch-job-state-change';
import { COUNTED_LOG_LINES } from '../../lambda/contracts/counted-log-lines';
import { PAGE_TOKEN_SECONDS, pageTokenKeyFromSecret, PageTokens } from '../../lambda/api/page-token';
import { PARSING_OUTPUTS, TERMINAL_SEQUENCE } from '../../lambda/jobs/job-record';
import { progressOf } from '../../lambda/jobs/job-progress';
import { signResult } from '../../lambda/jobs/result-record';
import { LocalPlatform } from '../../local/local-platform';
import { HOST_LOST_REASON } from '../../local/services/batch-retry';
import { seededRandom } from '../../local/services/seeded-random';
import { apiClient } from '../helpers/api-client';
import { endedJob } from '../helpers/api-flows';
import { putImageRecord } from '../helpers/image-records';
import { startTestPlatform } from '../helpers/local-platform-fixture';
import { settledValue } from '../helpers/settled-value';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

let platform: LocalPlatform;
let call: ReturnType<typeof apiClient>;
let documents: DynamoDBDocumentClient;
let onBatchEvent: (event: EventBridgeEvent<'Batch Job State Change', BatchJobDetail>) => Promise<void>;
let sub: Record<string, string>;
const alice = 'dev-alice';
const bob = 'dev-bob';
const carol = 'dev-carol';
const PER_USER = 3;
const MiB = 1024 ** 2;
const COPY_PART = 5 * MiB;
/** The queue of the staging jobs that copy each job's inputs before it may start. */
const STAGING_QUEUE = 'local-job-input-staging';

beforeAll(async () => {
  platform = await startTestPlatform({
    activeJobsPerUser: PER_USER,
    activeJobsPerAlgorithm: 5,
    activeJobsTotal: 8,
    // S3's smallest part: inputs of tens of MiB are copied in parts.
    copyPartBytes: COPY_PART,
  });
  call = apiClient(platform.urls.api);
  documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  sub = Object.fromEntries(platform.devUsers.map((u) => [u.token, u.claims.sub]));
  // EventBridge's delivery to the state handler, in its own sandbox.
  onBatchEvent = (event) => platform.functions.get('jobs/batch-job-state-change').invoke(event);
});

afterAll(async () => {
  documents.destroy();
  await platform.stop();
});

/** An image of `token`'s user as the converter leaves it: Succeeded. */
async function convertedImage(
  token: string,
  status = 'Succeeded',
  file: string | Buffer = 'ct',
): Promise<string> {
  const id = await putImageRecord(documents, platform.settings.imagesTable, (id) => ({
    owner: sub[token],
    status,
    statusDetail: status,
    files: [],
    outputKey: `images/${id}/ct.mha`,
  }));
  const s3 = new S3Client({ forcePathStyle: true });
  await s3.send(
    new PutObjectCommand({
      Bucket: platform.settings.imagingBucket,
      Key: `images/${id}/ct.mha`,
      Body: file,
    }),
  );
  s3.destroy();
  return id;
}

const threshold = {
  inputs: [
    { slug: 'ct-image', kind: 'image', relativePath: 'images/ct' },
    {
      slug: 'threshold',
      kind: 'json',
      relativePath: 'threshold.json',
      schema: { type: 'number', minimum: 0, maximum: 1 },
    },
  ],
  outputs: [{ slug: 'mask', kind: 'image', relativePath: 'images/mask' }],
};

async function algorithmOf(token: string, users: string[] = [], gpu = true): Promise<string> {
  const created = await call('POST', '/v1/algorithms', {
    token,
    body: {
      title: 'Thresholder',
      interfaces: [threshold],
      gpu,
      image: `123456789012.dkr.ecr.eu-central-1.amazonaws.com/t@sha256:${randomUUID().replace(/-/g, '').padEnd(64, '0')}`,
    },
  });
  if (users.length > 0) {
    await call('PUT', '/v1/algorithms/{algorithmId}/users', {
      token,
      params: { algorithmId: created.body.id },
      body: { editors: [sub[token]], users: users.map((t) => sub[t]) },
    });
  }
  return created.body.id;
}

async function submit(
  token: string,
  algorithm: string,
  image: string,
  options: { key?: string; value?: unknown } = {},
) {
  const body = {
    algorithm,
    inputs: [
      { socket: 'ct-image', image },
      { socket: 'threshold', value: options.value ?? 0.5 },
    ],
  };
  if (!options.key) return call('POST', '/v1/jobs', { token, body });
  const response = await fetch(`${platform.urls.api}/v1/jobs`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'idempotency-key': options.key,
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, never> };
}

async function cancel(token: string, jobId: string) {
  return call('POST', '/v1/jobs/{jobId}/cancel', { token, params: { jobId } });
}

async function activeSlots(scope: string): Promise<number> {
  const { Item } = await documents.send(
    new GetCommand({ TableName: platform.settings.activeJobsTable, Key: { scope } }),
  );
  return (Item?.active as number | undefined) ?? 0;
}

/** The active jobs of `scope` once they are `expected`, or after 5 s. */
const settledSlots = (scope: string, expected: number) => settledValue(() => activeSlots(scope), expected);

async function jobCount(): Promise<number> {
  const { Count } = await documents.send(
    new ScanCommand({ TableName: platform.settings.jobsTable, Select: 'COUNT' }),
  );
  return Count!;
}

function batchEvent(jobId: string, batchJobId: string, detail: Partial<BatchJobDetail>) {
  return {
    'detail-type': 'Batch Job State Change',
    source: 'aws.batch',
    detail: { jobId: batchJobId, jobName: jobId, jobQueue: 'local-gpu-jobs', status: 'RUNNING', ...detail },
  } as EventBridgeEvent<'Batch Job State Change', BatchJobDetail>;
}

describe('submitting a job', () => {
  test('a valid job is Queued, its manifest written and submitted to the GPU queue', async () => {
    const algorithm = await algorithmOf(alice);
    const image = await convertedImage(alice);
    const response = await submit(alice, algorithm, image);
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ algorithm, status: 'Queued', outputs: [] });

    const submitted = platform.batch.jobs.find((j) => j.jobName === response.body.id)!;
    const staging = platform.batch.jobs.find((j) => j.jobName === `${response.body.id}-inputs`)!;
    // It may start only once its staging job has copied its inputs.
    expect(staging).toMatchObject({ jobQueue: STAGING_QUEUE, parameters: { jobId: response.body.id } });
    expect(submitted).toMatchObject({
      dependsOn: [staging.jobId],
      jobQueue: 'local-gpu-jobs',
      // The active version's own definition, registered with it.
      jobDefinition: expect.stringMatching(new RegExp(`:job-definition/local-algorithm-${algorithm}:1$`)),
      parameters: {
        jobId: response.body.id,
        inputManifest: `s3://${platform.settings.imagingBucket}/jobs/${response.body.id}/inputs.json`,
      },
    });
    const s3 = new S3Client({ forcePathStyle: true });
    const manifest = await s3.send(
      new GetObjectCommand({
        Bucket: platform.settings.imagingBucket,
        Key: `jobs/${response.body.id}/inputs.json`,
      }),
    );
    // Copies are keyed by position; the path under /input is data.
    const inputKey = `jobs/${response.body.id}/inputs/0`;
    expect(JSON.parse(await manifest.Body!.transformToString())).toMatchObject({
      jobId: response.body.id,
      timeLimitSeconds: 3600,
      gpu: true,
      interface: threshold,
      inputs: [
        {
          socket: threshold.inputs[0],
          path: 'images/ct/ct.mha',
          key: inputKey,
          // What the staging job copies: the image's file as it was at submission.
          source: { key: `images/${image}/ct.mha`, bytes: 2, etag: expect.any(String) },
          image: { pk: image, name: 'ct.mha' },
        },
        { socket: threshold.inputs[1], path: 'threshold.json', value: 0.5 },
      ],
    });
    // The image is copied under the job's own prefix, the only one the runner may read.
    await platform.batch.settled();
    expect(staging.status).toBe('SUCCEEDED');
    const copy = await s3.send(
      new GetObjectCommand({ Bucket: platform.settings.imagingBucket, Key: inputKey }),
    );
    expect(await copy.Body!.transformToString()).toBe('ct');
    s3.destroy();
    // Cancelling stops its Batch job; its staging job, already done, stays as it ended.
    expect((await cancel(alice, response.body.id)).body).toMatchObject({ status: 'Cancelled' });
    expect(staging.status).toBe('SUCCEEDED');
  });

  test('a CPU algorithm goes to the CPU queue', async () => {
    const response = await submit(alice, await algorithmOf(alice, [], false), await convertedImage(alice));
    expect(platform.batch.jobs.find((j) => j.jobName === response.body.id)?.jobQueue).toBe('local-cpu-jobs');
    await cancel(alice, response.body.id);
  });
});

describe('a job is refused, naming the rule, and nothing is written', () => {
  let algorithm: string;
  let image: string;
  beforeAll(async () => {
    algorithm = await algorithmOf(alice, [bob]);
    image = await convertedImage(bob);
  });

  const cases: [
    string,
    () => Promise<{ status: number; body: { error: { message: string } } }>,
    number,
    RegExp,
  ][] = [
    [
      'an algorithm the caller may not run',
      async () => submit(carol, algorithm, await convertedImage(carol)),
      404,
      /^algorithm .* not found$/,
    ],
    [
      'inputs that match no interface',
      async () =>
        call('POST', '/v1/jobs', {
          token: bob,
          body: { algorithm, inputs: [{ socket: 'ct-image', image }] },
        }),
      400,
      /the inputs \(ct-image\) match no interface of algorithm .*; it takes \(ct-image, threshold\)/,
    ],
    [
      'a socket given twice',
      async () =>
        call('POST', '/v1/jobs', {
          token: bob,
          body: {
            algorithm,
            inputs: [
              { socket: 'ct-image', image },
              { socket: 'ct-image', image },
            ],
          },
        }),
      400,
      /socket "ct-image" is given twice/,
    ],
    [
      'a value on an image socket',
      async () =>
        call('POST', '/v1/jobs', {
          token: bob,
          body: {
            algorithm,
            inputs: [
              { socket: 'ct-image', value: 1 },
              { socket: 'threshold', value: 0.5 },
            ],
          },
        }),
      400,
      /input "ct-image" is a socket of kind image and takes exactly one "image"/,
    ],
    [
      'a value outside its schema',
      async () => submit(bob, algorithm, image, { value: 7 }),
      400,
      /input "threshold" does not match its schema: value must be <= 1/,
    ],
    [
      'an image that is not converted',
      async () => submit(bob, algorithm, await convertedImage(bob, 'Queued')),
      409,
      /only converted images can be inputs/,
    ],
    [
      "another user's image",
      async () => submit(bob, algorithm, await convertedImage(alice)),
      404,
      /^image .* not found$/,
    ],
  ];

  test.each(cases)('%s', async (_, attempt, status, message) => {
    const [jobsBefore, batchBefore, slotsBefore] = [
      await jobCount(),
      platform.batch.jobs.length,
      await activeSlots(`user#${sub[bob]}`),
    ];
    const response = await attempt();
    expect(response.status).toBe(status);
    expect(response.body.error.message).toMatch(message);
    expect([await jobCount(), platform.batch.jobs.length, await activeSlots(`user#${sub[bob]}`)]).toEqual([
      jobsBefore,
      batchBefore,
      slotsBefore,
    ]);
  });

  test('the per-user limit refuses the next job until one ends', async () => {
    const mine = await algorithmOf(carol);
    const carolsImage = await convertedImage(carol);
    const accepted = [];
    for (let i = 0; i < PER_USER; i++) accepted.push((await submit(carol, mine, carolsImage)).body.id);
    const refused = await submit(carol, mine, carolsImage);
    expect(refused).toEqual({
      status: 429,
      body: {
        error: { code: 'LimitExceeded', message: `you have ${PER_USER} active jobs, the most allowed` },
      },
    });
    await cancel(carol, accepted[0]);
    const next = await submit(carol, mine, carolsImage);
    expect(next.status).toBe(201);
    for (const id of [...accepted.slice(1), next.body.id]) await cancel(carol, id);
    expect(await activeSlots(`user#${sub[carol]}`)).toBe(0);
  });

  test('concurrent submissions never pass the limit together, and every accepted one is recorded', async () => {
    const mine = await algorithmOf(carol);
    const carolsImage = await convertedImage(carol);
    const results = await Promise.all(Array.from({ length: 8 }, () => submit(carol, mine, carolsImage)));
    const accepted = results.filter((r) => r.status === 201);
    expect(accepted).toHaveLength(PER_USER);
    expect(results.filter((r) => r.status === 429)).toHaveLength(8 - PER_USER);
    for (const r of accepted) {
      expect(
        (await call('GET', '/v1/jobs/{jobId}', { token: carol, params: { jobId: r.body.id } })).status,
      ).toBe(200);
      await cancel(carol, r.body.id);
    }
  });
});

describe('Idempotency-Key', () => {
  test('the same key and body return the first job; another body with that key is a 409', async () => {
    const algorithm = await algorithmOf(alice);
    const image = await convertedImage(alice);
    const key = `retry-${randomUUID()}`;
    const first = await submit(alice, algorithm, image, { key });
    const again = await submit(alice, algorithm, image, { key });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    expect(platform.batch.jobs.filter((j) => j.jobName === first.body.id)).toHaveLength(1);
    const other = await submit(alice, algorithm, image, { key, value: 0.9 });
    expect(other.status).toBe(409);
    await cancel(alice, first.body.id);
  });

  test('a refused submission does not use up its key', async () => {
    const algorithm = await algorithmOf(alice);
    const key = `fix-${randomUUID()}`;
    const refused = await submit(alice, algorithm, await convertedImage(alice, 'Queued'), { key });
    expect(refused.status).toBe(409);
    const fixed = await submit(alice, algorithm, await convertedImage(alice), { key });
    expect(fixed.status).toBe(201);
    await cancel(alice, fixed.body.id);
  });
});

describe('Idempotency-Key claims that outlive their submission', () => {
  /** Rewrites the stored claim of `key`, as a submission that died or a day that passed would leave it. */
  async function rewriteClaim(key: string, fields: Record<string, unknown>) {
    const sets = Object.keys(fields).map((_, i) => `#f${i} = :v${i}`);
    await documents.send(
      new UpdateCommand({
        TableName: platform.settings.idempotencyKeysTable,
        Key: { key: `${sub[alice]}#${key}` },
        UpdateExpression: `SET ${sets.join(', ')}`,
        ExpressionAttributeNames: Object.fromEntries(Object.keys(fields).map((name, i) => [`#f${i}`, name])),
        ExpressionAttributeValues: Object.fromEntries(
          Object.values(fields).map((value, i) => [`:v${i}`, value]),
        ),
      }),
    );
  }
  const now = () => Math.floor(Date.now() / 1000);

  test('a key past its lifetime is unused: another request may take it', async () => {
    const algorithm = await algorithmOf(alice);
    const key = `expired-${randomUUID()}`;
    const first = await submit(alice, algorithm, await convertedImage(alice), { key });
    await cancel(alice, first.body.id);
    await rewriteClaim(key, { expiresAt: now() - 1 });
    const second = await submit(alice, algorithm, await convertedImage(alice), { key, value: 0.7 });
    expect(second.status).toBe(201);
    expect(second.body.id).not.toBe(first.body.id);
    await cancel(alice, second.body.id);
  });

  test('a claim in progress is a 409; once stale, a retry gets the job its submission wrote', async () => {
    const algorithm = await algorithmOf(alice);
    const image = await convertedImage(alice);
    const key = `died-after-${randomUUID()}`;
    const first = await submit(alice, algorithm, image, { key });
    // As a submission that wrote its job and then timed out before marking its key.
    await rewriteClaim(key, { complete: false, claimedAt: now() });
    expect((await submit(alice, algorithm, image, { key })).status).toBe(409);
    await rewriteClaim(key, { claimedAt: now() - 120 });
    const retry = await submit(alice, algorithm, image, { key });
    expect([retry.status, retry.body.id]).toEqual([200, first.body.id]);
    expect(platform.batch.jobs.filter((j) => j.jobName === first.body.id)).toHaveLength(1);
    await cancel(alice, first.body.id);
  });

  test('a stale claim whose submission wrote no job is taken over by the retry', async () => {
    const algorithm = await algorithmOf(alice);
    const image = await convertedImage(alice);
    const key = `died-before-${randomUUID()}`;
    const first = await submit(alice, algorithm, image, { key });
    await cancel(alice, first.body.id);
    // As a submission that claimed the key and died before it wrote a job.
    await rewriteClaim(key, { complete: false, claimedAt: now() - 120, jobId: randomUUID() });
    const retry = await submit(alice, algorithm, image, { key });
    expect(retry.status).toBe(201);
    expect(retry.body.id).not.toBe(first.body.id);
    expect((await submit(alice, algorithm, image, { key })).body.id).toBe(retry.body.id);
    await cancel(alice, retry.body.id);
  });
});

describe('when SubmitJob fails', () => {
  test('the job ends Failed with the reason and its slots are free', async () => {
    const algorithm = await algorithmOf(alice);
    const image = await convertedImage(alice);
    // As an operator disabling the queue would make Batch refuse the submission.
    const batch = new BatchClient({});
    const queueState = (state: 'ENABLED' | 'DISABLED') =>
      batch.send(new UpdateJobQueueCommand({ jobQueue: 'local-gpu-jobs', state }));
    await queueState('DISABLED');
    // Held before it starts, as without capacity: a small copy could otherwise end before it is stopped.
    platform.batch.pauseQueue(STAGING_QUEUE);
    try {
      const response = await submit(alice, algorithm, image);
      expect(response.status).toBe(201);
      expect(response.body).toMatchObject({
        status: 'Failed',
        statusReason: 'the job could not be submitted: JobQueue local-gpu-jobs is DISABLED',
      });
      // Its staging job, submitted first, is stopped: nothing is copied for a job that will not run.
      await platform.batch.settled();
      expect(platform.batch.jobs.find((j) => j.jobName === `${response.body.id}-inputs`)).toMatchObject({
        status: 'FAILED',
        statusReason: 'its job could not be submitted',
      });
    } finally {
      platform.batch.resumeQueue(STAGING_QUEUE);
      await queueState('ENABLED');
      batch.destroy();
    }
    expect(await activeSlots(`user#${sub[alice]}`)).toBe(0);
    expect(await activeSlots(`algorithm#${algorithm}`)).toBe(0);
  });
});

describe("staging a job's inputs", () => {
  const bucket = () => platform.settings.imagingBucket;
  const s3 = () => new S3Client({ forcePathStyle: true });
  const batchJob = (name: string) => platform.batch.jobs.find((j) => j.jobName === name)!;
  const jobOf = async (id: string) =>
    (await call('GET', '/v1/jobs/{jobId}', { token: alice, params: { jobId: id } })).body;

  /** Submits with the staging queue held, so the test sees the job before its inputs are copied. */
  async function submitHeld(file: string | Buffer = 'ct') {
    const algorithm = await algorithmOf(alice);
    const image = await convertedImage(alice, 'Succeeded', file);
    platform.batch.pauseQueue(STAGING_QUEUE);
    const response = await submit(alice, algorithm, image);
    expect(response.body).toMatchObject({ status: 'Queued' });
    return { id: response.body.id as string, algorithm, image };
  }

  afterEach(async () => {
    platform.batch.resumeQueue(STAGING_QUEUE);
    await platform.batch.settled();
  });

  test('an input larger than a part is copied in parts before the job may start', async () => {
    const file = randomBytes(2 * COPY_PART + MiB);
    const job = await submitHeld(file);
    const inputKey = `jobs/${job.id}/inputs/0`;
    const client = s3();
    const stored = async () => {
      try {
        const object = await client.send(new GetObjectCommand({ Bucket: bucket(), Key: inputKey }));
        return { etag: object.ETag!, body: Buffer.from(await object.Body!.transformToByteArray()) };
      } catch (err) {
        if ((err as Error).name === 'NoSuchKey') return undefined;
        throw err;
      }
    };
    // The request returned before any copy: the algorithm's job waits for its staging job.
    expect(await stored()).toBeUndefined();
    expect(batchJob(job.id).status).toBe('PENDING');

    platform.batch.resumeQueue(STAGING_QUEUE);
    await platform.batch.settled();
    expect(batchJob(`${job.id}-inputs`).status).toBe('SUCCEEDED');
    expect(batchJob(job.id).status).toBe('RUNNABLE');
    const copy = await stored();
    expect(copy?.body.equals(file)).toBe(true);
    // Three UploadPartCopy ranges: one CopyObject of an input over 5 GiB is refused by S3.
    expect(copy?.etag).toMatch(/-3"$/);
    client.destroy();
    await cancel(alice, job.id);
  });

  test('a job whose inputs cannot be copied ends Failed, saying so, and frees its slots', async () => {
    const job = await submitHeld();
    expect(await activeSlots(`algorithm#${job.algorithm}`)).toBe(1);
    // Its image's file is gone before the staging job runs (local S3 keeps no versions to copy).
    const client = s3();
    await client.send(new DeleteObjectCommand({ Bucket: bucket(), Key: `images/${job.image}/ct.mha` }));
    client.destroy();

    platform.batch.resumeQueue(STAGING_QUEUE);
    await platform.batch.settled();
    expect(batchJob(`${job.id}-inputs`).status).toBe('FAILED');
    expect(batchJob(job.id)).toMatchObject({ status: 'FAILED', statusReason: 'Dependent Job failed' });
    expect(await jobOf(job.id)).toMatchObject({
      status: 'Failed',
      statusReason: "the job's input files could not be copied for it",
    });
    expect(await settledSlots(`algorithm#${job.algorithm}`, 0)).toBe(0);
  });

  test('a job cancelled while its inputs wait to be copied stops both Batch jobs and copies nothing', async () => {
    const job = await submitHeld();
    expect(batchJob(`${job.id}-inputs`).status).toBe('RUNNABLE');

    const cancelled = await cancel(alice, job.id);
    expect(cancelled.body).toMatchObject({ status: 'Cancelled' });
    expect(await activeSlots(`algorithm#${job.algorithm}`)).toBe(0);
    platform.batch.resumeQueue(STAGING_QUEUE);
    await platform.batch.settled();
    for (const name of [job.id, `${job.id}-inputs`]) {
      expect(batchJob(name)).toMatchObject({ status: 'FAILED', statusReason: `Cancelled by ${sub[alice]}` });
    }
    const client = s3();
    const copies = await client.send(
      new ListObjectsV2Command({ Bucket: bucket(), Prefix: `jobs/${job.id}/inputs/` }),
    );
    client.destroy();
    expect(copies.KeyCount).toBe(0);
    expect((await jobOf(job.id)).status).toBe('Cancelled');
  });
});

describe('active-job counters a crash left behind', () => {
  const reconcile = () =>
    platform.functions.get('jobs/reconcile-job-slots').invoke({}) as Promise<{ corrected: number }>;

  test('are corrected on the second run that finds them unchanged, never while slots move', async () => {
    const scope = `user#${sub[carol]}`;
    const algorithm = await algorithmOf(carol);
    // As a submission that took its slot and died before it wrote its job.
    await documents.send(
      new UpdateCommand({
        TableName: platform.settings.activeJobsTable,
        Key: { scope },
        UpdateExpression: 'ADD active :one',
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
    await reconcile();
    expect(await activeSlots(scope)).toBe(1);
    // A slot taken between two runs: the counter moved, so the run only notes it again.
    const job = await submit(carol, algorithm, await convertedImage(carol));
    expect(await activeSlots(scope)).toBe(2);
    await reconcile();
    expect(await activeSlots(scope)).toBe(2);
    expect(await reconcile()).toMatchObject({ corrected: 1 });
    expect(await activeSlots(scope)).toBe(1);
    await cancel(carol, job.body.id);
    expect(await activeSlots(scope)).toBe(0);
    await reconcile();
    expect(await reconcile()).toMatchObject({ corrected: 0 });
  });
});

describe('Batch state changes', () => {
  /** What the job runner stores after the algorithm wrote its mask: the file, then the signed record. */
  async function writeResultRecord(jobId: string, batchJobId: string) {
    const key = `jobs/${jobId}/outputs/images/mask/mask.mha`;
    const s3 = new S3Client({ forcePathStyle: true });
    const bucket = platform.settings.imagingBucket;
    // A 2 x 2 mask: the state handler reads its header before the job ends.
    const mask =
      'ObjectType = Image\nNDims = 2\nDimSize = 2 2\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n\x00\x01\x01\x00';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: mask }));
    const record = {
      jobId,
      returnCode: 0,
      execDuration: 3,
      timedOut: false,
      outputs: [{ path: 'images/mask/mask.mha', key, bytes: mask.length, sha256: sha256(mask) }],
    };
    const signingKey = platform.batch.jobs.find((j) => j.jobId === batchJobId)!.environment
      .RESULT_SIGNING_KEY;
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `jobs/${jobId}/result.json`,
        Body: signResult(record, signingKey),
      }),
    );
    s3.destroy();
  }

  async function queuedJob() {
    const algorithm = await algorithmOf(alice);
    const response = await submit(alice, algorithm, await convertedImage(alice));
    const batchJobId = platform.batch.jobs.find((j) => j.jobName === response.body.id)!.jobId;
    const status = async () =>
      (await call('GET', '/v1/jobs/{jobId}', { token: alice, params: { jobId: response.body.id } })).body;
    return { id: response.body.id as string, algorithm, batchJobId, status };
  }

  test('a job moves forward and ends; late, repeated and out-of-order events change nothing', async () => {
    const job = await queuedJob();
    await onBatchEvent(batchEvent(job.id, job.batchJobId, { status: 'STARTING' }));
    expect((await job.status()).status).toBe('Provisioning');
    await onBatchEvent(batchEvent(job.id, job.batchJobId, { status: 'RUNNING', startedAt: Date.now() }));
    expect((await job.status()).status).toBe('Executing');
    await onBatchEvent(batchEvent(job.id, job.batchJobId, { status: 'RUNNABLE' }));
    expect((await job.status()).status).toBe('Executing');
    await writeResultRecord(job.id, job.batchJobId);
    await onBatchEvent(
      batchEvent(job.id, job.batchJobId, {
        status: 'SUCCEEDED',
        attempts: [{ container: { exitCode: 0 } }],
        stoppedAt: Date.now(),
      }),
    );
    // Its image output converted: until then the job is Parsing outputs.
    expect(await endedJob(call, alice, job.id)).toMatchObject({
      status: 'Succeeded',
      outputs: [{ socket: 'mask' }],
    });
    expect(await settledSlots(`algorithm#${job.algorithm}`, 0)).toBe(0);

    const slotsBefore = await activeSlots('platform');
    await onBatchEvent(batchEvent(job.id, job.batchJobId, { status: 'RUNNING' }));
    await onBatchEvent(batchEvent(job.id, job.batchJobId, { status: 'SUCCEEDED', attempts: [{}] }));
    await onBatchEvent(batchEvent(job.id, job.batchJobId, { status: 'FAILED', attempts: [{}] }));
    expect((await job.status()).status).toBe('Succeeded');
    // The slot was given back once only.
    expect(await activeSlots('platform')).toBe(slotsBefore);
    // A job that ended otherwise cannot be cancelled.
    const late = await cancel(alice, job.id);
    expect(late.status).toBe(409);
    expect(late.body.error.message).toBe(`job ${job.id} has already ended: Succeeded`);
    expect((await job.status()).status).toBe('Succeeded');
  });

  test('a retried attempt shows as Re-Queued; exit 137 fails with the memory reason', async () => {
    const job = await queuedJob();
    await onBatchEvent(batchEvent(job.id, job.batchJobId, { status: 'RUNNING' }));
    await onBatchEvent(
      batchEvent(job.id, job.batchJobId, {
        status: 'RUNNABLE',
        attempts: [{ container: { reason: 'Host EC2 terminated' } }],
      }),
    );
    expect((await job.status()).status).toBe('Re-Queued');
    await onBatchEvent(batchEvent(job.id, job.batchJobId, { status: 'RUNNING', attempts: [{}] }));
    expect((await job.status()).status).toBe('Executing');
    await onBatchEvent(
      batchEvent(job.id, job.batchJobId, {
        status: 'FAILED',
        attempts: [{}, { container: { exitCode: 137 } }],
      }),
    );
    expect(await job.status()).toMatchObject({
      status: 'Failed',
      statusReason: 'the algorithm exceeded its memory limit',
    });
  });

  test('a job that ends without a result record from the runner fails, saying so', async () => {
    const job = await queuedJob();
    await onBatchEvent(batchEvent(job.id, job.batchJobId, { status: 'SUCCEEDED', attempts: [{}] }));
    expect(await job.status()).toMatchObject({
      status: 'Failed',
      statusReason: 'the job runner left no result record',
    });
  });

  test.each([
    [
      'CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY',
      "AWS had no instance for the job for as long as the platform waits (the account's vCPU quota for the instance type, or spot capacity); it was cancelled without running",
    ],
    [
      'MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT',
      'no instance type of the queue has the memory, vCPUs or GPU the algorithm asks for; it was cancelled without running',
    ],
  ])(
    'a job that Batch cancels in its queue (%s) fails saying why, and frees its slots',
    async (batchReason, reason) => {
      const job = await queuedJob();
      const before = await activeSlots(`algorithm#${job.algorithm}`);
      await onBatchEvent(batchEvent(job.id, job.batchJobId, { status: 'RUNNABLE' }));
      await onBatchEvent(
        batchEvent(job.id, job.batchJobId, {
          status: 'FAILED',
          statusReason: `Canceled by JobStateTimeLimit action due to reason: ${batchReason}`,
        }),
      );
      expect(await job.status()).toMatchObject({ status: 'Failed', statusReason: reason });
      expect(await activeSlots(`algorithm#${job.algorithm}`)).toBe(before - 1);
    },
  );

  test('a job failed by the platform says so on the line the alarm counts; one failed by its algorithm does not', async () => {
    // The state handler, run here with its local environment at the level it logs at in AWS.
    const logged = async (event: ReturnType<typeof batchEvent>) => {
      const saved = { ...process.env };
      Object.assign(process.env, platform.functions.environments.get('jobs/batch-job-state-change'), {
        POWERTOOLS_LOG_LEVEL: 'INFO',
      });
      const lines: Record<string, unknown>[] = [];
      const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
        for (const line of String(chunk)
          .split('\n')
          .filter((l) => l.startsWith('{')))
          lines.push(JSON.parse(line));
        return true;
      });
      try {
        let handler!: (event: unknown) => Promise<void>;
        jest.isolateModules(() => {
          ({ handler } = require('../../lambda/jobs/batch-job-state-change'));
        });
        await handler(event);
      } finally {
        write.mockRestore();
        process.env = saved;
      }
      return lines.filter((line) => line.message === COUNTED_LOG_LINES.jobMoved);
    };
    const capacity = await queuedJob();
    expect(
      await logged(
        batchEvent(capacity.id, capacity.batchJobId, {
          status: 'FAILED',
          statusReason:
            'Canceled by JobStateTimeLimit action due to reason: CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY',
        }),
      ),
    ).toEqual([
      expect.objectContaining({
        jobId: capacity.id,
        status: 'Failed',
        failedBy: 'platform',
        statusReason: expect.stringMatching(/^AWS had no instance for the job/),
      }),
    ]);
    const memory = await queuedJob();
    const [line] = await logged(
      batchEvent(memory.id, memory.batchJobId, {
        status: 'FAILED',
        attempts: [{ container: { exitCode: 137 } }],
      }),
    );
    expect(line).toMatchObject({ jobId: memory.id, status: 'Failed', failedBy: 'algorithm' });
    expect(line).not.toHaveProperty('statusReason');
  });

  test('a success event repeated while the outputs are parsed changes nothing; the conversion then ends the job', async () => {
    const job = await queuedJob();
    await writeResultRecord(job.id, job.batchJobId);
    const slotsBefore = await activeSlots('platform');
    // The mask's conversion waits at its first write, so the job stays Parsing outputs.
    const held = platform.functions.get('images/convert-image').injectFault({
      host: new URL(platform.urls.dynamodb).host,
      target: 'DynamoDB_20120810.UpdateItem',
      action: 'hold',
    });
    const succeeded = batchEvent(job.id, job.batchJobId, {
      status: 'SUCCEEDED',
      attempts: [{ container: { exitCode: 0 } }],
      stoppedAt: Date.now(),
    });
    await onBatchEvent(succeeded);
    await held.struck;
    const jobItem = async () =>
      (await documents.send(new GetCommand({ TableName: platform.settings.jobsTable, Key: { id: job.id } })))
        .Item;
    const parsing = await jobItem();
    expect(parsing).toMatchObject({ status: 'Parsing outputs', holdsSlots: true });
    await onBatchEvent(succeeded);
    await onBatchEvent(batchEvent(job.id, job.batchJobId, { status: 'FAILED', attempts: [{}] }));
    expect(await jobItem()).toEqual(parsing);
    expect(await activeSlots('platform')).toBe(slotsBefore);

    held.release();
    expect(await endedJob(call, alice, job.id)).toMatchObject({ status: 'Succeeded' });
    expect(await settledSlots('platform', slotsBefore - 1)).toBe(slotsBefore - 1);
  });

  test('the same terminal event delivered three times at once ends the job once: slots given back once, one image per image output', async () => {
    const job = await queuedJob();
    await writeResultRecord(job.id, job.batchJobId);
    const slotsBefore = await activeSlots('platform');
    const succeeded = batchEvent(job.id, job.batchJobId, {
      status: 'SUCCEEDED',
      attempts: [{ container: { exitCode: 0 } }],
      stoppedAt: Date.now(),
    });
    await Promise.all([succeeded, succeeded, succeeded].map((event) => onBatchEvent(event)));

    const ended = await endedJob(call, alice, job.id);
    expect(ended).toMatchObject({
      status: 'Succeeded',
      outputs: [{ socket: 'mask', image: expect.any(String) }],
    });
    expect(await settledSlots('platform', slotsBefore - 1)).toBe(slotsBefore - 1);
    const { Items = [] } = await documents.send(
      new ScanCommand({ TableName: platform.settings.imagesTable }),
    );
    expect(Items.filter((image) => image.jobOutput?.jobId === job.id).map((image) => image.id)).toEqual([
      ended.outputs[0].image,
    ]);
  });

  test.each([1, 2, 3, 4])(
    'events of a retried job, repeated and in any order (seed %i), always show the furthest state delivered so far',
    async (seed) => {
      const job = await queuedJob();
      await writeResultRecord(job.id, job.batchJobId);
      const lost = { statusReason: HOST_LOST_REASON };
      const details: Partial<BatchJobDetail>[] = [
        { status: 'RUNNABLE' },
        { status: 'STARTING' },
        { status: 'RUNNING' },
        { status: 'RUNNABLE', attempts: [lost] },
        { status: 'STARTING', attempts: [lost] },
        { status: 'RUNNING', attempts: [lost] },
        { status: 'SUCCEEDED', attempts: [lost, { container: { exitCode: 0 } }] },
      ];
      const random = seededRandom(seed);
      // EventBridge delivers each at least once, in no guaranteed order.
      const deliveries = random.shuffled([...details, ...details.filter(() => random.chance(0.5))]);
      let furthest = progressOf({ jobId: job.batchJobId, jobQueue: 'q', status: 'SUBMITTED' });
      for (const detail of deliveries) {
        await onBatchEvent(batchEvent(job.id, job.batchJobId, detail));
        const progress = progressOf({ jobId: job.batchJobId, jobQueue: 'q', status: 'RUNNING', ...detail });
        if (progress.sequence > furthest.sequence) furthest = progress;
        const { Item } = await documents.send(
          new GetCommand({ TableName: platform.settings.jobsTable, Key: { id: job.id } }),
        );
        // A job parsing its outputs shows the success it ends in once they are converted.
        const [sequence, status] =
          Item!.status === PARSING_OUTPUTS
            ? [TERMINAL_SEQUENCE, 'Succeeded']
            : [Item!.sequence, Item!.status];
        expect([detail, sequence, status]).toEqual([detail, furthest.sequence, furthest.status]);
      }
      expect(await endedJob(call, alice, job.id)).toMatchObject({
        status: 'Succeeded',
        outputs: [{ socket: 'mask' }],
      });
    },
  );

  test('the log stream is known from RUNNING on, and a cancelled job keeps the one a later event names', async () => {
    const logStream = async (id: string) =>
      (await documents.send(new GetCommand({ TableName: platform.settings.jobsTable, Key: { id } }))).Item
        ?.logStreamName;
    const running = await queuedJob();
    await onBatchEvent(
      batchEvent(running.id, running.batchJobId, {
        status: 'RUNNING',
        container: { logStreamName: 'run/1' },
      }),
    );
    expect(await logStream(running.id)).toBe('run/1');
    await cancel(alice, running.id);

    // Cancelled before Batch reported it running: the late RUNNING event is ignored but for its stream.
    const cancelled = await queuedJob();
    await cancel(alice, cancelled.id);
    await onBatchEvent(
      batchEvent(cancelled.id, 'some-other-batch-job', {
        status: 'RUNNING',
        container: { logStreamName: 'x/1' },
      }),
    );
    expect(await logStream(cancelled.id)).toBeUndefined();
    await onBatchEvent(
      batchEvent(cancelled.id, cancelled.batchJobId, {
        status: 'RUNNING',
        container: { logStreamName: 'late/1' },
      }),
    );
    await onBatchEvent(
      batchEvent(cancelled.id, cancelled.batchJobId, {
        status: 'FAILED',
        attempts: [{ container: { exitCode: 143, logStreamName: 'other/1' } }],
      }),
    );
    expect(await cancelled.status()).toMatchObject({ status: 'Cancelled' });
    expect(await logStream(cancelled.id)).toBe('late/1');
  });

  test('an event for another Batch job of the same name changes nothing', async () => {
    const job = await queuedJob();
    await onBatchEvent(batchEvent(job.id, 'some-other-batch-job', { status: 'RUNNING' }));
    expect((await job.status()).status).toBe('Queued');
    await cancel(alice, job.id);
  });
});

describe('outputs', () => {
  test('a finished job shows JSON outputs as values and files as signed URLs that CloudFront serves', async () => {
    const algorithm = await algorithmOf(alice);
    const job = (await submit(alice, algorithm, await convertedImage(alice))).body;
    // What the job runner records when the container succeeded.
    const maskKey = `jobs/${job.id}/output/images/mask/mask.mha`;
    const s3 = new S3Client({ forcePathStyle: true });
    await s3.send(
      new PutObjectCommand({ Bucket: platform.settings.imagingBucket, Key: maskKey, Body: 'mask' }),
    );
    s3.destroy();
    await documents.send(
      new UpdateCommand({
        TableName: platform.settings.jobsTable,
        Key: { id: job.id },
        UpdateExpression: 'SET outputs = :outputs',
        ExpressionAttributeValues: {
          ':outputs': [
            { socket: 'mask', key: maskKey },
            { socket: 'volume-ml', value: 12.5 },
          ],
        },
      }),
    );
    const read = await call('GET', '/v1/jobs/{jobId}', { token: alice, params: { jobId: job.id } });
    const [mask, volume] = read.body.outputs;
    expect(volume).toEqual({ socket: 'volume-ml', value: 12.5 });
    expect(mask.url.startsWith(`${platform.urls.cloudfront}/${maskKey}?`)).toBe(true);
    expect(Date.parse(mask.urlExpiresAt) - Date.now()).toBeGreaterThan(290_000);
    const download = await fetch(mask.url);
    expect([download.status, await download.text()]).toEqual([200, 'mask']);
    await cancel(alice, job.id);
  });
});

describe('reading, listing and cancelling', () => {
  test('the creator and the algorithm editors see a job; nobody else learns of it', async () => {
    const algorithm = await algorithmOf(alice, [bob]);
    const job = (await submit(bob, algorithm, await convertedImage(bob))).body;
    for (const token of [bob, alice]) {
      expect((await call('GET', '/v1/jobs/{jobId}', { token, params: { jobId: job.id } })).status).toBe(200);
    }
    expect(await call('GET', '/v1/jobs/{jobId}', { token: carol, params: { jobId: job.id } })).toEqual({
      status: 404,
      body: { error: { code: 'NotFound', message: `job ${job.id} not found` } },
    });
    expect((await cancel(carol, job.id)).status).toBe(404);
    expect(
      (await call('GET', '/v1/jobs/{jobId}/logs', { token: bob, params: { jobId: job.id } })).status,
    ).toBe(403);
    expect(
      (await call('GET', '/v1/jobs/{jobId}/logs', { token: alice, params: { jobId: job.id } })).body,
    ).toEqual({
      lines: [],
    });

    const cancelled = await cancel(alice, job.id);
    expect(cancelled.body).toMatchObject({ status: 'Cancelled' });
    expect(platform.batch.jobs.find((j) => j.jobName === job.id)?.status).toBe('FAILED');
    // Asked again, as a client retries a cancel whose answer it lost: the same, and Batch told again.
    const again = await cancel(bob, job.id);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'Cancelled', stoppedAt: cancelled.body.stoppedAt });
  });

  test('lists hold the caller’s jobs, filtered and paged; editors list their algorithm’s jobs', async () => {
    const algorithm = await algorithmOf(alice, [bob]);
    const bobs = [];
    for (let i = 0; i < 3; i++) bobs.push((await submit(bob, algorithm, await convertedImage(bob))).body.id);
    await cancel(bob, bobs[0]);

    const seen: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await call('GET', '/v1/jobs', {
        token: bob,
        query: { algorithm, limit: '2', ...(nextToken && { nextToken }) },
      });
      seen.push(...page.body.items.map((j: { id: string }) => j.id));
      nextToken = page.body.nextToken;
    } while (nextToken);
    expect(seen.sort()).toEqual([...bobs].sort());

    const cancelledOnly = await call('GET', '/v1/jobs', {
      token: bob,
      query: { algorithm, status: 'Cancelled' },
    });
    expect(cancelledOnly.body.items.map((j: { id: string }) => j.id)).toEqual([bobs[0]]);
    const asEditor = await call('GET', '/v1/jobs', { token: alice, query: { algorithm } });
    expect(asEditor.body.items.map((j: { id: string }) => j.id).sort()).toEqual([...bobs].sort());
    const asStranger = await call('GET', '/v1/jobs', { token: carol, query: { algorithm } });
    expect(asStranger.body.items).toEqual([]);
    const badStatus = await call('GET', '/v1/jobs', { token: bob, query: { status: 'Done' } });
    expect(badStatus.status).toBe(400);
    for (const id of bobs.slice(1)) await cancel(bob, id);
  });
});

describe('hostile input', () => {
  /** An algorithm of `token`'s with one image input, the json sockets given, and a mask out. */
  async function algorithmWith(
    token: string,
    json: { slug: string; schema?: Record<string, unknown> }[],
    outputs: { slug: string; kind: string; relativePath: string }[] = threshold.outputs,
  ): Promise<string> {
    const created = await call('POST', '/v1/algorithms', {
      token,
      body: {
        title: 'Hostile',
        interfaces: [
          {
            inputs: [
              threshold.inputs[0],
              ...json.map(({ slug, schema }) => ({
                slug,
                kind: 'json',
                relativePath: `${slug}.json`,
                ...(schema && { schema }),
              })),
            ],
            outputs,
          },
        ],
        image: `123456789012.dkr.ecr.eu-central-1.amazonaws.com/t@sha256:${randomUUID().replace(/-/g, '').padEnd(64, '0')}`,
      },
    });
    expect(created.status).toBe(201);
    return created.body.id;
  }

  const submitValue = (token: string, algorithm: string, image: string, value: unknown, key?: string) =>
    fetch(`${platform.urls.api}/v1/jobs`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        ...(key && { 'idempotency-key': key }),
      },
      body: JSON.stringify({
        algorithm,
        inputs: [
          { socket: 'ct-image', image },
          { socket: 'settings', value },
        ],
      }),
    }).then(async (response) => ({
      status: response.status,
      body: (await response.json()) as { id: string; error: { message: string } },
    }));

  async function jobObjectCount(): Promise<number> {
    const s3 = new S3Client({ forcePathStyle: true });
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: platform.settings.imagingBucket, Prefix: 'jobs/' }),
    );
    s3.destroy();
    return listed.KeyCount ?? 0;
  }

  test('a 900 KB value is a 400 naming the limit; no job, manifest, slot or idempotency key is left', async () => {
    const algorithm = await algorithmWith(carol, [{ slug: 'settings' }]);
    const image = await convertedImage(carol);
    const before = [await jobCount(), await jobObjectCount(), await activeSlots(`user#${sub[carol]}`)];
    const key = `large-${randomUUID()}`;
    const refused = await submitValue(carol, algorithm, image, { weights: 'w'.repeat(900 * 1024) }, key);
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toMatch(
      /^the job's inputs would take 92\d{4} bytes as stored; a DynamoDB item holds 409600 bytes, of which 16384 are kept/,
    );
    expect([await jobCount(), await jobObjectCount(), await activeSlots(`user#${sub[carol]}`)]).toEqual(
      before,
    );
    const { Item } = await documents.send(
      new GetCommand({
        TableName: platform.settings.idempotencyKeysTable,
        Key: { key: `${sub[carol]}#${key}` },
      }),
    );
    expect(Item).toBeUndefined();
    // The key was never claimed: the corrected request uses it at once.
    const accepted = await submitValue(carol, algorithm, image, { weights: 'small' }, key);
    expect(accepted.status).toBe(201);
    await cancel(carol, accepted.body.id);
  });

  test('a value nested deeper than a job record keeps is a 400; one level less is accepted', async () => {
    const algorithm = await algorithmWith(carol, [{ slug: 'settings' }]);
    const image = await convertedImage(carol);
    const nested = (levels: number): unknown => (levels === 1 ? 0 : [nested(levels - 1)]);
    const before = await jobCount();
    const refused = await submitValue(carol, algorithm, image, nested(31));
    expect(refused).toMatchObject({
      status: 400,
      body: {
        error: {
          message:
            'body.inputs[1].value nests more than 30 levels of arrays and objects; DynamoDB keeps 32 levels and 2 are taken where it is stored',
        },
      },
    });
    expect(await jobCount()).toBe(before);
    const accepted = await submitValue(carol, algorithm, image, nested(30));
    expect(accepted.status).toBe(201);
    await cancel(carol, accepted.body.id);
  });

  test('schemas of different algorithms with the same $id each check their own values, again and again', async () => {
    const $id = 'https://example.org/schemas/settings.json';
    const numbers = await algorithmWith(alice, [{ slug: 'settings', schema: { $id, type: 'number' } }]);
    const words = await algorithmWith(carol, [{ slug: 'settings', schema: { $id, type: 'string' } }]);
    const [alicesImage, carolsImage] = [await convertedImage(alice), await convertedImage(carol)];
    for (let round = 0; round < 2; round++) {
      const number = await submitValue(alice, numbers, alicesImage, 0.5);
      expect(number.status).toBe(201);
      await cancel(alice, number.body.id);
      expect(await submitValue(alice, numbers, alicesImage, 'text')).toMatchObject({
        status: 400,
        body: { error: { message: 'input "settings" does not match its schema: value must be number' } },
      });
      const word = await submitValue(carol, words, carolsImage, 'text');
      expect(word.status).toBe(201);
      await cancel(carol, word.body.id);
      expect((await submitValue(carol, words, carolsImage, 0.5)).status).toBe(400);
    }
  });

  test('an algorithm stored with a schema that does not compile answers 409 naming the socket', async () => {
    const algorithm = await algorithmWith(alice, [{ slug: 'settings', schema: { type: 'number' } }]);
    // As an algorithm registered before schemas were compiled at registration.
    const { Item } = await documents.send(
      new GetCommand({ TableName: platform.settings.algorithmsTable, Key: { id: algorithm } }),
    );
    Item!.interfaces[0].inputs[1].schema = { type: 'no-such-type' };
    await documents.send(
      new UpdateCommand({
        TableName: platform.settings.algorithmsTable,
        Key: { id: algorithm },
        UpdateExpression: 'SET interfaces = :interfaces',
        ExpressionAttributeValues: { ':interfaces': Item!.interfaces },
      }),
    );
    const refused = await submitValue(alice, algorithm, await convertedImage(alice), 1);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(
      /^the schema of input "settings" cannot check values \(schema is invalid: data\/type must be equal to one of the allowed values/,
    );
  });

  test('JSON outputs beyond what the job record holds are served as files', async () => {
    const json = (slug: string) => ({ slug, kind: 'json', relativePath: `${slug}.json` });
    const algorithm = await algorithmWith(alice, [], [json('first'), json('second')]);
    const response = await call('POST', '/v1/jobs', {
      token: alice,
      body: { algorithm, inputs: [{ socket: 'ct-image', image: await convertedImage(alice) }] },
    });
    const jobId = response.body.id;
    const batchJobId = platform.batch.jobs.find((j) => j.jobName === jobId)!.jobId;
    // Two values of 210 KB: each is kept inline alone, both would pass DynamoDB's 400 KB.
    const text = JSON.stringify('v'.repeat(210_000));
    const s3 = new S3Client({ forcePathStyle: true });
    const outputs = [];
    for (const [position, path] of ['first.json', 'second.json'].entries()) {
      const key = `jobs/${jobId}/outputs/${position}`;
      await s3.send(new PutObjectCommand({ Bucket: platform.settings.imagingBucket, Key: key, Body: text }));
      outputs.push({ path, key, bytes: text.length, sha256: sha256(text) });
    }
    const signingKey = platform.batch.jobs.find((j) => j.jobId === batchJobId)!.environment
      .RESULT_SIGNING_KEY;
    const record = { jobId, returnCode: 0, execDuration: 1, timedOut: false, outputs };
    await s3.send(
      new PutObjectCommand({
        Bucket: platform.settings.imagingBucket,
        Key: `jobs/${jobId}/result.json`,
        Body: signResult(record, signingKey),
      }),
    );
    s3.destroy();
    await onBatchEvent(batchEvent(jobId, batchJobId, { status: 'SUCCEEDED', attempts: [{}] }));
    const read = await call('GET', '/v1/jobs/{jobId}', { token: alice, params: { jobId } });
    expect(read.body.status).toBe('Succeeded');
    const [first, second] = read.body.outputs;
    expect(first).toEqual({ socket: 'first', value: 'v'.repeat(210_000) });
    expect(second).toMatchObject({
      socket: 'second',
      url: expect.stringContaining(`/jobs/${jobId}/outputs/1?`),
    });
    expect(await (await fetch(second.url)).text()).toBe(text);
  });

  describe('page tokens', () => {
    let algorithm: string;
    let firstPage: { items: { id: string }[]; nextToken: string };
    const list = (token: string, nextToken: string, query: Record<string, string> = {}) =>
      call('GET', '/v1/jobs', { token, query: { algorithm, limit: '1', nextToken, ...query } });

    beforeAll(async () => {
      algorithm = await algorithmOf(alice, [bob]);
      const jobs = [];
      for (let i = 0; i < 2; i++)
        jobs.push((await submit(bob, algorithm, await convertedImage(bob))).body.id);
      firstPage = (await call('GET', '/v1/jobs', { token: bob, query: { algorithm, limit: '1' } })).body;
      for (const id of jobs) await cancel(bob, id);
    });

    test('a token resumes the listing it was issued for', async () => {
      const second = await list(bob, firstPage.nextToken);
      expect(second.status).toBe(200);
      expect(second.body.items.map((j: { id: string }) => j.id)).not.toContain(firstPage.items[0].id);
    });

    test.each([
      [
        'altered',
        (token: string) => `${token.slice(0, 10)}${token[10] === 'A' ? 'B' : 'A'}${token.slice(11)}`,
      ],
      ['not a token at all', () => 'eyJvd25lciI6ImJvYiJ9'],
      [
        'a DynamoDB key as earlier versions wrote it',
        () => Buffer.from('{"owner":"x"}').toString('base64url'),
      ],
      ['of 3,000 characters', () => 'A'.repeat(3000)],
      ['with its signature cut', (token: string) => token.slice(0, -1)],
    ])('a token %s is a 400', async (_, change) => {
      const response = await list(bob, change(firstPage.nextToken));
      expect(response).toMatchObject({ status: 400, body: { error: { message: 'nextToken is not valid' } } });
    });

    test('a token made by hand in the shape of a DynamoDB key of the caller is a 400', async () => {
      const handMade = { owner: sub[bob], id: 5, createdAt: [] };
      const response = await list(bob, Buffer.from(JSON.stringify(handMade)).toString('base64url'));
      expect(response).toMatchObject({ status: 400, body: { error: { message: 'nextToken is not valid' } } });
    });

    test('a token uses only the characters the route declares for it', () => {
      expect(firstPage.nextToken).toMatch(/^[A-Za-z0-9_-]{1,2000}$/);
    });

    test("another caller's token, or one for another query, is a 400", async () => {
      for (const response of [
        await list(alice, firstPage.nextToken),
        await list(bob, firstPage.nextToken, { status: 'Cancelled' }),
      ]) {
        expect([response.status, response.body.error.message]).toEqual([400, 'nextToken is not valid']);
      }
    });

    test('an expired token is a 400', async () => {
      const { p } = JSON.parse(Buffer.from(firstPage.nextToken.slice(0, -43), 'base64url').toString());
      // Bob's listing of this algorithm's jobs, as list-jobs names it: his own, any status.
      const l = ['jobs', sub[bob], JSON.stringify({ owner: sub[bob] }), algorithm, ''].join('/');
      const key = pageTokenKeyFromSecret(new SecretsManagerClient({}), platform.settings.pageTokenSecretArn);
      const yesterday = new PageTokens(key, () => Date.now() - PAGE_TOKEN_SECONDS * 1000 - 1000);
      const response = await list(bob, await yesterday.issue(l, p));
      expect(response.status).toBe(400);
      expect(response.body.error.message).toBe(
        'nextToken has expired (page tokens last 24 hours): list again from the first page',
      );
    });
  });
});
