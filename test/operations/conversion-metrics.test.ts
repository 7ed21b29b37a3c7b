import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BatchJobDetail } from '../../lambda/contracts/batch-job-state-change';
import { businessMetricNamespace } from '../../lambda/contracts/business-metrics';
import { LocalPlatform } from '../../local/local-platform';
import { apiClient } from '../helpers/api-client';
import { completedUpload, settledImage, SMALL_CT } from '../helpers/api-flows';
import { putImageRecord } from '../helpers/image-records';
import { startTestPlatform } from '../helpers/local-platform-fixture';
import { capturePublishedMetrics, directiveOf, EmfDocument } from '../helpers/published-metrics';

// The business metrics of uploads, images and conversions as CloudWatch Logs would read them: the
// embedded metric format documents that local mode's functions print, each from its own sandbox.

const alice = 'dev-alice';
const MiB = 1024 ** 2;
let platform: LocalPlatform;
let call: ReturnType<typeof apiClient>;
let documents: DynamoDBDocumentClient;
let metrics: ReturnType<typeof capturePublishedMetrics>;
let sub: string;

beforeAll(async () => {
  metrics = capturePublishedMetrics();
  // Sets over 1 MiB go to the converter container, smaller ones to the converter function.
  platform = await startTestPlatform({}, { conversion: { lambdaMaxSetBytes: MiB } });
  call = apiClient(platform.urls.api);
  documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  sub = platform.devUsers.find((user) => user.token === alice)!.claims.sub;
}, 60_000);

afterAll(async () => {
  documents?.destroy();
  await platform?.stop();
  metrics?.stop();
});

/** An image record of alice's, as the converter function or container would find it. */
function imageRecord(fields: Record<string, unknown>): Promise<string> {
  return putImageRecord(documents, platform.settings.imagesTable, () => ({
    owner: sub,
    statusDetail: 'Converting',
    fileCount: 1,
    ...fields,
  }));
}

test('every function publishes in the namespace of its environment, which the platform name gives', () => {
  const namespaces = new Set(
    [...platform.functions.environments.values()].map((env) => env.BUSINESS_METRIC_NAMESPACE),
  );
  // Local mode is synthesized as a platform named `local`.
  expect([...namespaces]).toEqual([businessMetricNamespace('local')]);
  expect(platform.settings.businessMetricNamespace).toBe(businessMetricNamespace('local'));
});

describe('an upload, the image made of it and its conversion', () => {
  beforeAll(async () => {
    const upload = await completedUpload(call, alice, 'ct.mha', SMALL_CT);
    const created = await call('POST', '/v1/images', { token: alice, body: { uploads: [upload] } });
    expect((await settledImage(call, alice, created.body.id)).status).toBe('Succeeded');
  });

  test('the completion counts the upload and its bytes', async () => {
    const [completed] = await metrics.publishedBy('complete-upload', 'UploadsCompleted');
    expect(directiveOf(completed)).toEqual({
      Namespace: 'local',
      Dimensions: [['service']],
      Metrics: [
        { Name: 'UploadsCompleted', Unit: 'Count' },
        { Name: 'UploadBytes', Unit: 'Bytes' },
      ],
    });
    expect(completed).toMatchObject({ UploadsCompleted: 1, UploadBytes: SMALL_CT.length });
  });

  test('creating the image counts it', async () => {
    const [created] = await metrics.publishedBy('create-image', 'ImagesCreated');
    expect(directiveOf(created)).toEqual({
      Namespace: 'local',
      Dimensions: [['service']],
      Metrics: [{ Name: 'ImagesCreated', Unit: 'Count' }],
    });
    expect(created.ImagesCreated).toBe(1);
  });

  test('the converter function counts and times the conversion; its next, failed, conversion carries only its own', async () => {
    // The same warm function: the second conversion reuses the sandbox of the first.
    const upload = await completedUpload(call, alice, 'broken.mha', 'ObjectType = Nonsense\n');
    const created = await call('POST', '/v1/images', { token: alice, body: { uploads: [upload] } });
    expect((await settledImage(call, alice, created.body.id)).status).toBe('Failed');

    const [converted] = await metrics.publishedBy('convert-image', 'ConversionsSucceeded');
    expect(directiveOf(converted)).toEqual({
      Namespace: 'local',
      Dimensions: [['service']],
      Metrics: [
        { Name: 'ConversionsSucceeded', Unit: 'Count' },
        { Name: 'ConversionSeconds', Unit: 'Seconds' },
      ],
    });
    expect(converted.ConversionsSucceeded).toBe(1);
    expect(converted.ConversionSeconds).toBeGreaterThan(0);
    expect(converted).not.toHaveProperty('Reason');

    const [failed] = await metrics.publishedBy('convert-image', 'ConversionsFailed');
    expect(directiveOf(failed)).toEqual({
      Namespace: 'local',
      Dimensions: [['service', 'Reason']],
      Metrics: [{ Name: 'ConversionsFailed', Unit: 'Count' }],
    });
    expect(failed).toMatchObject({ Reason: 'Unreadable', ConversionsFailed: 1 });
    for (const name of ['ConversionsSucceeded', 'ConversionSeconds']) expect(failed).not.toHaveProperty(name);
  });
});

test('the converter container counts and times its conversion, in the log its job definition gives it', async () => {
  // A 120 x 100 x 100 int8 volume as .mha: 1.2 MB, over the converter function's bound.
  const large = Buffer.concat([
    Buffer.from(
      'ObjectType = Image\nNDims = 3\nDimSize = 120 100 100\nElementType = MET_CHAR\nElementDataFile = LOCAL\n',
    ),
    Buffer.alloc(120 * 100 * 100, 3),
  ]);
  const upload = await completedUpload(call, alice, 'large.mha', large);
  const created = await call('POST', '/v1/images', { token: alice, body: { uploads: [upload] } });
  expect((await settledImage(call, alice, created.body.id)).status).toBe('Succeeded');
  await platform.batch.settled();

  const logDir = path.join(platform.dataDir, 'logs', 'image-converter');
  const published = fs
    .readdirSync(logDir)
    .flatMap((file) => fs.readFileSync(path.join(logDir, file), 'utf8').split('\n'))
    .filter((line) => line.startsWith('{"_aws"'))
    .map((line) => JSON.parse(line) as EmfDocument);
  expect(published).toHaveLength(1);
  expect(directiveOf(published[0])).toEqual({
    Namespace: 'local',
    Dimensions: [['service']],
    Metrics: [
      { Name: 'ConversionsSucceeded', Unit: 'Count' },
      { Name: 'ConversionSeconds', Unit: 'Seconds' },
    ],
  });
  expect(published[0]).toMatchObject({ service: 'image-converter', ConversionsSucceeded: 1 });
});

describe('conversions that end Failed elsewhere', () => {
  test('the dead-letter queue handler counts an image failed after every try', async () => {
    const imageId = await imageRecord({ status: 'Queued' });
    await platform.functions
      .get('images/fail-unconverted-image')
      .invoke({ Records: [{ messageId: 'dead-1', body: JSON.stringify({ imageId }) }] });
    const [failed] = await metrics.publishedBy('fail-unconverted-image', 'ConversionsFailed');
    expect(directiveOf(failed).Dimensions).toEqual([['service', 'Reason']]);
    expect(failed).toMatchObject({ Reason: 'RetriesExhausted', ConversionsFailed: 1 });
  });

  test('a failed converter job counts by its category; the next event to the warm function carries only its own', async () => {
    const failedJob = async (detail: Partial<BatchJobDetail>) => {
      const converterJobId = randomUUID();
      const imageId = await imageRecord({ status: 'Started', converterJobId });
      await platform.functions.get('images/fail-converter-job').invoke({
        source: 'aws.batch',
        'detail-type': 'Batch Job State Change',
        detail: {
          jobId: converterJobId,
          jobName: imageId,
          jobQueue: 'local-converter',
          status: 'FAILED',
          ...detail,
        },
      });
    };
    await failedJob({ statusReason: 'Essential container in task exited', container: { exitCode: 137 } });
    await failedJob({ statusReason: 'Job attempt duration exceeded timeout' });

    const [outOfMemory, timedOut] = await metrics.publishedBy('fail-converter-job', 'ConversionsFailed', 2);
    expect(outOfMemory).toMatchObject({ Reason: 'OutOfMemory', ConversionsFailed: 1 });
    expect(timedOut).toMatchObject({ Reason: 'TimedOut', ConversionsFailed: 1 });
    // Batch's reason in words stays in the image's record and the log, never in a dimension.
    for (const document of [outOfMemory, timedOut]) {
      expect(directiveOf(document).Dimensions).toEqual([['service', 'Reason']]);
    }
  });
});
