import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';
import { LocalFunction } from '../../local/functions/local-function';
import { findContainerEngine } from '../../local/jobs/container-engine';
import { buildLocalFilesImage } from '../../local/jobs/local-files-image';
import { LocalPlatform } from '../../local/local-platform';
import { localTableName } from '../../local/local-settings';
import { BuildStateChangeDetail } from '../../lambda/contracts/builds';
import { apiClient } from '../helpers/api-client';
import { startTestPlatform } from '../helpers/local-platform-fixture';
import { functionAtEdge, startPipelineEdge } from './pipeline-edge';

let platform: LocalPlatform;
let call: ReturnType<typeof apiClient>;
let edge: Awaited<ReturnType<typeof startPipelineEdge>>;
let sqs: SQSClient;
let s3: S3Client;
let db: DynamoDBDocumentClient;
let sub: Record<string, string>;
const alice = 'dev-alice';
const bob = 'dev-bob';
const carol = 'dev-carol';
const context = Buffer.from('a build context, as a .tar.gz would hold it');
const LOCAL_IMAGE_CHECK = path.join(__dirname, '..', '..', 'local', 'jobs', 'local-image-check.ts');
const sandboxes: LocalFunction[] = [];
/** Images these tests built, removed after them. */
const builtImages: string[] = [];

beforeAll(async () => {
  platform = await startTestPlatform();
  // The build queue is read here, and the start is invoked with CodePipeline at the edge: local
  // mode's own trigger would reach for a CodePipeline that local mode does not have.
  await platform.functions.stopTriggers();
  call = apiClient(platform.urls.api);
  sub = Object.fromEntries(platform.devUsers.map((u) => [u.token, u.claims.sub]));
  edge = await startPipelineEdge();
  sqs = new SQSClient({});
  s3 = new S3Client({ forcePathStyle: true });
  db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
});

afterAll(async () => {
  await Promise.all(sandboxes.map((fn) => fn.stop()));
  const engine = findContainerEngine();
  if (engine) spawnSync(engine.command, ['rmi', '--force', ...builtImages]);
  sqs.destroy();
  s3.destroy();
  db.destroy();
  await edge.stop();
  await platform.stop();
});

const atEdge = (handler: string, setUp: readonly string[] = []) => {
  const fn = functionAtEdge(platform, handler, edge.url, setUp);
  sandboxes.push(fn);
  return fn;
};

/** An algorithm without an image, of `editor`'s, which bob may run. */
async function algorithm(editor = alice): Promise<string> {
  const created = await call('POST', '/v1/algorithms', {
    token: editor,
    body: {
      title: 'Built',
      interfaces: [
        {
          inputs: [{ slug: 'ct-image', kind: 'image', relativePath: 'images/ct' }],
          outputs: [{ slug: 'results', kind: 'json', relativePath: 'results.json' }],
        },
      ],
    },
  });
  expect(created.status).toBe(201);
  await call('PUT', '/v1/algorithms/{algorithmId}/users', {
    token: editor,
    params: { algorithmId: created.body.id },
    body: { editors: [sub[editor]], users: [sub[bob]] },
  });
  return created.body.id;
}

async function createBuild(algorithmId: string, body: Record<string, unknown>, token = alice) {
  return call('POST', '/v1/algorithms/{algorithmId}/builds', { token, params: { algorithmId }, body });
}

/** Sends the context's one part and completes the upload, as a script pushing a build would. */
async function uploadContext(uploadId: string, data: Buffer, token = alice) {
  const signed = await call('POST', '/v1/uploads/{uploadId}/parts', {
    token,
    params: { uploadId },
    body: { partNumbers: [1] },
  });
  const put = await fetch(signed.body.parts[0].url, { method: 'PUT', body: data });
  return call('POST', '/v1/uploads/{uploadId}/complete', {
    token,
    params: { uploadId },
    body: { parts: [{ partNumber: 1, etag: put.headers.get('etag') }] },
  });
}

async function readBuild(algorithmId: string, buildId: string, token = alice) {
  return call('GET', '/v1/algorithms/{algorithmId}/builds/{buildId}', {
    token,
    params: { algorithmId, buildId },
  });
}

/** The messages on the build queue now, taken off it. */
async function buildMessages(): Promise<unknown[]> {
  const { Messages } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: platform.settings.buildQueueUrl, MaxNumberOfMessages: 10 }),
  );
  for (const m of Messages ?? []) {
    await sqs.send(
      new DeleteMessageCommand({ QueueUrl: platform.settings.buildQueueUrl, ReceiptHandle: m.ReceiptHandle }),
    );
  }
  return (Messages ?? []).map((m) => JSON.parse(m.Body!));
}

async function activeBuilds(token: string): Promise<number> {
  const { Item } = await db.send(
    new GetCommand({ TableName: localTableName('usage'), Key: { userId: sub[token] } }),
  );
  return (Item?.activeBuilds as number | undefined) ?? 0;
}

async function uploadBytes(token: string): Promise<number> {
  const { Item } = await db.send(
    new GetCommand({ TableName: localTableName('usage'), Key: { userId: sub[token] } }),
  );
  return (Item?.uploadBytes as number | undefined) ?? 0;
}

/** A queued build of a fresh algorithm of `token`'s, its message taken off the queue. */
async function queuedBuild(token = alice, dockerfile?: string) {
  const algorithmId = await algorithm(token);
  const created = await createBuild(
    algorithmId,
    { filename: 'context.tar.gz', size: context.length, ...(dockerfile && { dockerfile }) },
    token,
  );
  expect(created.status).toBe(201);
  expect((await uploadContext(created.body.upload.id, context, token)).status).toBe(200);
  await buildMessages();
  return {
    algorithmId,
    buildId: created.body.build.id as string,
    uploadId: created.body.upload.id as string,
  };
}

const sqsEvent = (body: unknown) => ({
  Records: [
    { messageId: randomUUID(), body: JSON.stringify(body), attributes: { ApproximateReceiveCount: '1' } },
  ],
});

function stateChange(
  algorithmId: string,
  buildId: string,
  status: BuildStateChangeDetail['build-status'],
  codebuildId = `local-algorithm-builds:${buildId}`,
) {
  const detail: BuildStateChangeDetail = {
    'build-status': status,
    'project-name': 'local-algorithm-builds',
    'build-id': codebuildId,
    'additional-information': {
      environment: {
        'environment-variables': [
          { name: 'ALGORITHM_ID', value: algorithmId, type: 'PLAINTEXT' },
          { name: 'BUILD_ID', value: buildId, type: 'PLAINTEXT' },
        ],
      },
      logs: { 'group-name': platform.settings.buildLogGroup, 'stream-name': `stream-${buildId}` },
      'build-start-time': 'Dec 5, 2026 2:00:00 PM',
    },
  };
  return { source: 'aws.codebuild', 'detail-type': 'CodeBuild Build State Change', detail };
}

const track = (event: unknown) => platform.functions.get('builds/track-build').invoke(event);

describe('algorithm builds', () => {
  test('an editor pushes a context: an upload of its own queues the build, whose start wraps the context and starts the pipeline once', async () => {
    const algorithmId = await algorithm();
    const created = await createBuild(algorithmId, {
      filename: 'context.tar.gz',
      size: context.length,
      dockerfile: 'docker/Dockerfile.gpu',
    });
    expect(created.status).toBe(201);
    const { build, upload } = created.body;
    expect(build).toMatchObject({
      algorithmId,
      status: 'Pending',
      dockerfile: 'docker/Dockerfile.gpu',
      uploadId: upload.id,
    });
    expect(upload).toMatchObject({
      filename: 'context.tar.gz',
      size: context.length,
      partCount: 1,
      status: 'Pending',
    });
    expect(await activeBuilds(alice)).toBeGreaterThanOrEqual(1);

    // The build's upload is the build's alone: it never becomes an image.
    expect((await uploadContext(upload.id, context)).body.status).toBe('Completed');
    const asImage = await call('POST', '/v1/images', { token: alice, body: { uploads: [upload.id] } });
    expect(asImage.status).toBe(409);
    expect(asImage.body.error.message).toContain(`build ${build.id}`);

    const queued = await readBuild(algorithmId, build.id);
    expect(queued.body).toMatchObject({ status: 'Queued', logTail: [] });
    expect(queued.body.queuedAt).toBeDefined();
    const messages = await buildMessages();
    expect(messages).toEqual([{ algorithmId, buildId: build.id }]);
    const listed = await call('GET', '/v1/algorithms/{algorithmId}/builds', {
      token: alice,
      params: { algorithmId },
    });
    expect(listed.body.items.map((b: { id: string }) => b.id)).toEqual([build.id]);

    const start = atEdge('builds/start-build');
    const heldBefore = await uploadBytes(alice);
    await expect(start.invoke(sqsEvent(messages[0]))).resolves.toEqual({ batchItemFailures: [] });
    // Started, the context as uploaded goes and its bytes go back to the quota.
    expect(await uploadBytes(alice)).toBe(heldBefore - context.length);
    const uploadObjectKey = (
      await db.send(new GetCommand({ TableName: localTableName('uploads'), Key: { id: upload.id } }))
    ).Item!.objectKey as string;
    await expect(
      s3.send(new HeadObjectCommand({ Bucket: platform.settings.imagingBucket, Key: uploadObjectKey })),
    ).rejects.toMatchObject({ name: 'NotFound' });
    const [request] = edge.of('StartPipelineExecution').filter((r) => r.body.clientRequestToken === build.id);
    const sourceKey = `builds/${algorithmId}/${build.id}/source.zip`;
    expect(request.body).toEqual({
      name: 'local-algorithm-builds',
      clientRequestToken: build.id,
      sourceRevisions: [{ actionName: 'Context', revisionType: 'S3_OBJECT_KEY', revisionValue: sourceKey }],
      variables: [
        { name: 'ALGORITHM_ID', value: algorithmId },
        { name: 'BUILD_ID', value: build.id },
        { name: 'DOCKERFILE', value: 'docker/Dockerfile.gpu' },
      ],
    });
    // The source object: one stored entry, the context as uploaded, its CRC after it.
    const zip = Buffer.from(
      await (
        await s3.send(new GetObjectCommand({ Bucket: platform.settings.imagingBucket, Key: sourceKey }))
      ).Body!.transformToByteArray(),
    );
    const nameLength = zip.readUInt16LE(26);
    expect(zip.subarray(30, 30 + nameLength).toString()).toBe('context.tar.gz');
    const data = zip.subarray(30 + nameLength, 30 + nameLength + context.length);
    expect(data.equals(context)).toBe(true);
    expect(zip.readUInt32LE(30 + nameLength + context.length + 4)).toBe(crc32(context));

    // Delivered again, the message starts nothing more.
    await start.invoke(sqsEvent(messages[0]));
    expect(
      edge.of('StartPipelineExecution').filter((r) => r.body.clientRequestToken === build.id),
    ).toHaveLength(1);
    const read = await readBuild(algorithmId, build.id);
    expect(read.body.status).toBe('Queued');

    // A retried completion changes nothing of a build the pipeline has.
    const again = await call('POST', '/v1/uploads/{uploadId}/complete', {
      token: alice,
      params: { uploadId: upload.id },
      body: { parts: [{ partNumber: 1, etag: 'abc' }] },
    });
    expect(again.status).toBe(200);
    expect(await buildMessages()).toEqual([]);
    await cancelAtEdge(algorithmId, build.id);
  });

  test("a build the pipeline cannot start is retried, and fails at the queue's last try, its slot and quota given back", async () => {
    const { algorithmId, buildId } = await queuedBuild();
    const before = await activeBuilds(alice);
    const held = await uploadBytes(alice);
    edge.refusedStarts.add(buildId);
    const start = atEdge('builds/start-build');
    const event = (receiveCount: string) => {
      const delivery = sqsEvent({ algorithmId, buildId });
      delivery.Records[0].attributes.ApproximateReceiveCount = receiveCount;
      return delivery;
    };
    const first = event('1');
    await expect(start.invoke(first)).resolves.toEqual({
      batchItemFailures: [{ itemIdentifier: first.Records[0].messageId }],
    });
    expect((await readBuild(algorithmId, buildId)).body.status).toBe('Queued');
    await expect(start.invoke(event('3'))).resolves.toEqual({ batchItemFailures: [] });
    const failed = await readBuild(algorithmId, buildId);
    expect(failed.body).toMatchObject({ status: 'Failed' });
    expect(failed.body.statusDetail).toContain(
      'the build pipeline could not be started: The pipeline was not found',
    );
    expect(await activeBuilds(alice)).toBe(before - 1);
    expect(await uploadBytes(alice)).toBe(held - context.length);
  });

  test('a build the pipeline runs and ends before its start is recorded keeps its run, and its context goes back to the quota', async () => {
    const { algorithmId, buildId } = await queuedBuild();
    const held = await uploadBytes(alice);
    const slots = await activeBuilds(alice);
    // CodeBuild's events arrive before StartPipelineExecution has answered the start.
    edge.beforeStartAnswer.run = async () => {
      await track(stateChange(algorithmId, buildId, 'IN_PROGRESS'));
      await track(stateChange(algorithmId, buildId, 'FAILED'));
    };
    try {
      await expect(atEdge('builds/start-build').invoke(sqsEvent({ algorithmId, buildId }))).resolves.toEqual({
        batchItemFailures: [],
      });
    } finally {
      edge.beforeStartAnswer.run = undefined;
    }
    expect((await readBuild(algorithmId, buildId)).body.status).toBe('Failed');
    // The execution is the build's own: it is not stopped as one of a cancelled build.
    expect(edge.of('StopPipelineExecution').filter((r) => String(r.body.reason).includes(buildId))).toEqual(
      [],
    );
    expect(await uploadBytes(alice)).toBe(held - context.length);
    expect(await activeBuilds(alice)).toBe(slots - 1);
  });

  test('cancelling a queued build gives its context upload back to the quota', async () => {
    const { algorithmId, buildId } = await queuedBuild();
    const held = await uploadBytes(alice);
    expect((await cancelAtEdge(algorithmId, buildId)).status).toBe(200);
    expect(await uploadBytes(alice)).toBe(held - context.length);
  });

  test('refuses contexts of another format, too large, and Dockerfiles outside the context, writing nothing', async () => {
    const algorithmId = await algorithm();
    const before = await activeBuilds(alice);
    const refusals: [Record<string, unknown>, string][] = [
      [{ filename: 'context.rar', size: 10 }, 'must end with .zip, .tar.gz, .tgz'],
      [{ filename: 'context.zip', size: 3 * 1024 ** 3 }, 'builds.contextBytes'],
      [{ filename: 'context.zip', size: 10, dockerfile: '../Dockerfile' }, 'body.dockerfile'],
      [{ filename: 'context.zip', size: 10, dockerfile: '/Dockerfile' }, 'body.dockerfile'],
      [{ filename: 'context.zip', size: 10, dockerfile: 'a/./Dockerfile' }, 'body.dockerfile'],
    ];
    for (const [body, message] of refusals) {
      const refused = await createBuild(algorithmId, body);
      expect([refused.status, refused.body.error.message]).toEqual([400, expect.stringContaining(message)]);
    }
    const listed = await call('GET', '/v1/algorithms/{algorithmId}/builds', {
      token: alice,
      params: { algorithmId },
    });
    expect(listed.body.items).toEqual([]);
    expect(await activeBuilds(alice)).toBe(before);
  });

  test("builds are their editors' alone: a user of the algorithm and a stranger get 404", async () => {
    const { algorithmId, buildId } = await queuedBuild();
    for (const token of [bob, carol]) {
      expect((await createBuild(algorithmId, { filename: 'c.zip', size: 10 }, token)).status).toBe(404);
      expect(
        (await call('GET', '/v1/algorithms/{algorithmId}/builds', { token, params: { algorithmId } })).status,
      ).toBe(404);
      expect((await readBuild(algorithmId, buildId, token)).status).toBe(404);
      const cancel = await call('POST', '/v1/algorithms/{algorithmId}/builds/{buildId}/cancel', {
        token,
        params: { algorithmId, buildId },
      });
      expect(cancel.status).toBe(404);
    }
    expect((await readBuild(algorithmId, buildId)).body.status).toBe('Queued');
    await cancelAtEdge(algorithmId, buildId);
  });

  test('a user has builds.perUser builds under way at most; an aborted upload cancels its build and frees its slot', async () => {
    const algorithmId = await algorithm(carol);
    const first = await createBuild(algorithmId, { filename: 'a.zip', size: 10 }, carol);
    const second = await createBuild(algorithmId, { filename: 'b.zip', size: 10 }, carol);
    expect([first.status, second.status]).toEqual([201, 201]);
    const third = await createBuild(algorithmId, { filename: 'c.zip', size: 10 }, carol);
    expect(third.status).toBe(429);
    expect(third.body.error.message).toContain('builds.perUser');

    const aborted = await call('DELETE', '/v1/uploads/{uploadId}', {
      token: carol,
      params: { uploadId: first.body.upload.id },
    });
    expect(aborted.body.status).toBe('Aborted');
    const cancelled = await readBuild(algorithmId, first.body.build.id, carol);
    expect(cancelled.body).toMatchObject({
      status: 'Cancelled',
      statusDetail: 'its context upload was aborted',
    });
    expect(cancelled.body.endedAt).toBeDefined();
    expect(await activeBuilds(carol)).toBe(1);

    // Cancelling a Pending build aborts its upload; a second cancel finds it ended.
    const cancel = await call('POST', '/v1/algorithms/{algorithmId}/builds/{buildId}/cancel', {
      token: carol,
      params: { algorithmId, buildId: second.body.build.id },
    });
    expect(cancel.body.status).toBe('Cancelled');
    const upload = await call('GET', '/v1/uploads/{uploadId}', {
      token: carol,
      params: { uploadId: second.body.upload.id },
    });
    expect(upload.body.status).toBe('Aborted');
    const again = await call('POST', '/v1/algorithms/{algorithmId}/builds/{buildId}/cancel', {
      token: carol,
      params: { algorithmId, buildId: second.body.build.id },
    });
    expect(again.status).toBe(409);
    expect(await activeBuilds(carol)).toBe(0);
    expect((await createBuild(algorithmId, { filename: 'c.zip', size: 10 }, carol)).status).toBe(201);
  });

  test('the sweeper, aborting a context upload left Pending, cancels its build', async () => {
    const algorithmId = await algorithm();
    const created = await createBuild(algorithmId, { filename: 'context.tgz', size: 10 });
    const before = await activeBuilds(alice);
    await db.send(
      new UpdateCommand({
        TableName: localTableName('uploads'),
        Key: { id: created.body.upload.id },
        UpdateExpression: 'SET createdAt = :old',
        ExpressionAttributeValues: { ':old': new Date(Date.now() - 2 * 24 * 3600 * 1000).toISOString() },
      }),
    );
    await platform.functions.get('uploads/upload-sweeper').invoke({});
    const read = await readBuild(algorithmId, created.body.build.id);
    expect(read.body).toMatchObject({ status: 'Cancelled', statusDetail: 'its context upload was aborted' });
    expect(await activeBuilds(alice)).toBe(before - 1);
  });

  test('cancelling a running build stops its execution and its CodeBuild build, and gives its slot back once', async () => {
    const { algorithmId, buildId } = await queuedBuild();
    await atEdge('builds/start-build').invoke(sqsEvent({ algorithmId, buildId }));
    await track(stateChange(algorithmId, buildId, 'IN_PROGRESS'));
    const building = await readBuild(algorithmId, buildId);
    expect(building.body).toMatchObject({ status: 'Building', startedAt: '2026-12-05T14:00:00.000Z' });
    const before = await activeBuilds(alice);

    const cancelled = await cancelAtEdge(algorithmId, buildId);
    expect(cancelled.status).toBe(200);
    const execution = edge.of('StartPipelineExecution').find((r) => r.body.clientRequestToken === buildId);
    expect(edge.of('StopPipelineExecution').map((r) => r.body)).toContainEqual({
      pipelineName: 'local-algorithm-builds',
      pipelineExecutionId: expect.stringMatching(/^execution-/),
      abandon: true,
      reason: expect.stringContaining('cancelled by'),
    });
    expect(execution).toBeDefined();
    expect(edge.of('StopBuild').map((r) => r.body)).toContainEqual({
      id: `local-algorithm-builds:${buildId}`,
    });
    // CodeBuild's STOPPED event, and any late one, leave the build Cancelled.
    await track(stateChange(algorithmId, buildId, 'STOPPED'));
    await track(stateChange(algorithmId, buildId, 'IN_PROGRESS'));
    expect((await readBuild(algorithmId, buildId)).body.status).toBe('Cancelled');
    expect(await activeBuilds(alice)).toBe(before - 1);
    expect((await cancelAtEdge(algorithmId, buildId)).status).toBe(409);
  });

  test('a build being checked and registered can no longer be cancelled', async () => {
    const { algorithmId, buildId } = await queuedBuild();
    await db.send(
      new UpdateCommand({
        TableName: localTableName('builds'),
        Key: { algorithmId, id: buildId },
        UpdateExpression: 'SET #state = :checking',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':checking': 'Checking' },
      }),
    );
    const refused = await cancelAtEdge(algorithmId, buildId);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain('being checked and registered');
    expect((await readBuild(algorithmId, buildId)).body.status).toBe('Checking');
  });

  test("CodeBuild's events move a build forward only, and a failure names its reason", async () => {
    const { algorithmId, buildId } = await queuedBuild();
    const before = await activeBuilds(alice);
    await track(stateChange(algorithmId, buildId, 'IN_PROGRESS'));
    await track(stateChange(algorithmId, buildId, 'IN_PROGRESS', 'another'));
    const building = await readBuild(algorithmId, buildId);
    expect(building.body.status).toBe('Building');
    // Success is the Register action's to judge: CodeBuild's event leaves the build as it is.
    await track(stateChange(algorithmId, buildId, 'SUCCEEDED'));
    expect((await readBuild(algorithmId, buildId)).body).toMatchObject({
      status: 'Building',
      updatedAt: building.body.updatedAt,
    });
    await track(stateChange(algorithmId, buildId, 'FAILED'));
    const failed = await readBuild(algorithmId, buildId);
    expect(failed.body).toMatchObject({
      status: 'Failed',
      statusDetail: 'the build failed before it wrote a log',
    });
    await track(stateChange(algorithmId, buildId, 'TIMED_OUT'));
    await track(stateChange(algorithmId, buildId, 'IN_PROGRESS'));
    expect((await readBuild(algorithmId, buildId)).body).toMatchObject({
      status: 'Failed',
      statusDetail: failed.body.statusDetail,
    });
    expect(await activeBuilds(alice)).toBe(before - 1);

    const timedOut = await queuedBuild();
    await track(stateChange(timedOut.algorithmId, timedOut.buildId, 'TIMED_OUT'));
    expect((await readBuild(timedOut.algorithmId, timedOut.buildId)).body.statusDetail).toBe(
      'the build ran past builds.timeoutMinutes (60 minutes)',
    );
  });

  test('an algorithm registered without an image takes its first version from POST /versions as well', async () => {
    const algorithmId = await algorithm();
    const image = `123456789012.dkr.ecr.eu-central-1.amazonaws.com/built@sha256:${'b'.repeat(64)}`;
    const added = await call('POST', '/v1/algorithms/{algorithmId}/versions', {
      token: alice,
      params: { algorithmId },
      body: { image },
    });
    expect(added.status).toBe(201);
    const read = await call('GET', '/v1/algorithms/{algorithmId}', { token: bob, params: { algorithmId } });
    expect(read.body.activeVersion).toEqual(added.body);
    expect(
      platform.batch.jobDefinition(`${platform.settings.jobDefinitionPrefix}${algorithmId}`),
    ).toBeDefined();
  });

  test('an algorithm without an image has no version to run until a build registers one; a root image is refused', async () => {
    const engine = findContainerEngine();
    if (!engine) throw new Error('these checks need podman or docker');
    const { algorithmId, buildId } = await queuedBuild();
    const read = await call('GET', '/v1/algorithms/{algorithmId}', { token: alice, params: { algorithmId } });
    expect(read.body.activeVersion).toBeUndefined();
    const imageId = randomUUID();
    const submitted = await call('POST', '/v1/jobs', {
      token: bob,
      body: { algorithm: algorithmId, inputs: [{ socket: 'ct-image', image: imageId }] },
    });
    expect(submitted.status).toBe(409);
    expect(submitted.body.error.message).toContain('has no active version yet: push a build');

    const register = atEdge('builds/register-build', [LOCAL_IMAGE_CHECK]);
    const jobDefinition = `${platform.settings.jobDefinitionPrefix}${algorithmId}`;
    const rootImage = await buildLocalFilesImage(engine, {
      tag: `localhost/local/algorithms:build-${buildId}`,
      files: {},
      texts: { '/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\n' },
      instructions: ['USER root'],
    });
    builtImages.push(rootImage);
    const pipelineJob = (id: string, image: string, build = buildId) => ({
      'CodePipeline.job': {
        id,
        data: {
          actionConfiguration: {
            configuration: { UserParameters: JSON.stringify({ algorithmId, buildId: build, image }) },
          },
        },
      },
    });
    await register.invoke(pipelineJob('job-refused', rootImage));
    const refused = await readBuild(algorithmId, buildId);
    expect(refused.body.status).toBe('Failed');
    expect(refused.body.statusDetail).toContain('runs as root');
    const failure = edge.of('PutJobFailureResult').find((r) => r.body.jobId === 'job-refused');
    expect(failure?.body.failureDetails).toEqual({
      type: 'JobFailed',
      message: expect.stringContaining('runs as root'),
    });
    const after = await call('GET', '/v1/algorithms/{algorithmId}', {
      token: alice,
      params: { algorithmId },
    });
    expect(after.body.activeVersion).toBeUndefined();
    expect(platform.batch.jobDefinition(jobDefinition)).toBeUndefined();

    // A user's image is checked and becomes the active version, with its job definition.
    const second = await createBuild(algorithmId, { filename: 'context.zip', size: context.length });
    await uploadContext(second.body.upload.id, context);
    await buildMessages();
    const secondId = second.body.build.id;
    const userImage = await buildLocalFilesImage(engine, {
      tag: `localhost/local/algorithms:build-${secondId}`,
      files: {},
      texts: { '/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n' },
      instructions: ['USER user', 'ENTRYPOINT ["/opt/app/run"]'],
    });
    builtImages.push(userImage);
    await register.invoke(pipelineJob('job-accepted', userImage, secondId));
    expect(edge.of('PutJobSuccessResult').map((r) => r.body)).toContainEqual({ jobId: 'job-accepted' });
    const succeeded = await readBuild(algorithmId, secondId);
    expect(succeeded.body).toMatchObject({
      status: 'Succeeded',
      image: userImage,
      digest: userImage.split('@')[1],
    });
    const active = await call('GET', '/v1/algorithms/{algorithmId}', {
      token: alice,
      params: { algorithmId },
    });
    expect(active.body.activeVersion).toMatchObject({ id: succeeded.body.versionId, image: userImage });
    expect(platform.batch.jobDefinition(jobDefinition)?.revision).toBeGreaterThanOrEqual(1);
    // Run again by the pipeline, it reports success and writes nothing more.
    await register.invoke(pipelineJob('job-again', userImage, secondId));
    expect(edge.of('PutJobSuccessResult').map((r) => r.body)).toContainEqual({ jobId: 'job-again' });
  });
});

/** Cancels through the operation's own handler, with CodePipeline and CodeBuild at the edge. */
async function cancelAtEdge(algorithmId: string, buildId: string) {
  const cancel = atEdge('builds/cancel-build');
  const user = platform.devUsers.find((u) => u.token === alice)!;
  const answer = await cancel.invoke<{ statusCode: number; body: string }>({
    httpMethod: 'POST',
    resource: '/v1/algorithms/{algorithmId}/builds/{buildId}/cancel',
    path: `/v1/algorithms/${algorithmId}/builds/${buildId}/cancel`,
    pathParameters: { algorithmId, buildId },
    headers: {},
    body: null,
    isBase64Encoded: false,
    requestContext: { requestId: randomUUID(), authorizer: { claims: user.claims } },
  });
  return { status: answer.statusCode, body: JSON.parse(answer.body) };
}
