import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { LocalPlatform } from '../../local/local-platform';
import { apiClient } from '../helpers/api-client';
import { startTestPlatform } from '../helpers/local-platform-fixture';
import { capturePublishedMetrics, directiveOf } from '../helpers/published-metrics';

// The business metrics of jobs as CloudWatch Logs would read them: the embedded metric format
// documents that local mode's functions print, each from its own sandbox.

const alice = 'dev-alice';
let platform: LocalPlatform;
let call: ReturnType<typeof apiClient>;
let metrics: ReturnType<typeof capturePublishedMetrics>;

beforeAll(async () => {
  metrics = capturePublishedMetrics();
  platform = await startTestPlatform();
  call = apiClient(platform.urls.api);
}, 60_000);

afterAll(async () => {
  await platform?.stop();
  metrics?.stop();
});

/** A converted image of alice's, its file stored, and an algorithm of hers that runs on `gpu` or not. */
async function jobRequest(gpu: boolean) {
  const image = randomUUID();
  const outputKey = `images/${image}/ct.mha`;
  const s3 = new S3Client({ forcePathStyle: true });
  await s3.send(
    new PutObjectCommand({ Bucket: platform.settings.imagingBucket, Key: outputKey, Body: 'ct' }),
  );
  s3.destroy();
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  const now = new Date().toISOString();
  await documents.send(
    new PutCommand({
      TableName: platform.settings.imagesTable,
      Item: {
        id: image,
        owner: platform.devUsers.find((user) => user.token === alice)!.claims.sub,
        name: 'ct.mha',
        status: 'Succeeded',
        statusDetail: 'Converted',
        errors: [],
        metadata: {},
        outputKey,
        createdAt: now,
        updatedAt: now,
      },
    }),
  );
  documents.destroy();
  const algorithm = await call('POST', '/v1/algorithms', {
    token: alice,
    body: {
      title: 'Thresholder',
      interfaces: [
        {
          inputs: [{ slug: 'ct-image', kind: 'image', relativePath: 'images/ct' }],
          outputs: [{ slug: 'mask', kind: 'image', relativePath: 'images/mask' }],
        },
      ],
      gpu,
      image: `123456789012.dkr.ecr.eu-central-1.amazonaws.com/t@sha256:${randomUUID().replace(/-/g, '').padEnd(64, '0')}`,
    },
  });
  expect(algorithm.status).toBe(201);
  return { algorithm: algorithm.body.id as string, inputs: [{ socket: 'ct-image', image }] };
}

test('a submission counts by its queue; its end counts by status and queue, once', async () => {
  const onGpu = await call('POST', '/v1/jobs', { token: alice, body: await jobRequest(true) });
  expect(onGpu.status).toBe(201);
  const cancelled = await call('POST', '/v1/jobs/{jobId}/cancel', {
    token: alice,
    params: { jobId: onGpu.body.id },
  });
  expect(cancelled.status).toBe(200);

  const onCpu = await call('POST', '/v1/jobs', { token: alice, body: await jobRequest(false) });
  expect(onCpu.status).toBe(201);
  const batchJob = platform.batch.jobs.find((j) => j.jobName === onCpu.body.id)!;
  const failed = {
    source: 'aws.batch',
    'detail-type': 'Batch Job State Change',
    detail: {
      jobId: batchJob.jobId,
      jobName: onCpu.body.id,
      jobQueue: 'local-cpu-jobs',
      status: 'FAILED',
      statusReason: 'Essential container in task exited',
      attempts: [{ container: { exitCode: 1 } }],
    },
  };
  // EventBridge delivers at least once: the repeat, to the same warm function, ends nothing.
  await platform.functions.get('jobs/batch-job-state-change').invoke(failed);
  await platform.functions.get('jobs/batch-job-state-change').invoke(failed);

  const submitted = await metrics.publishedBy('submit-job', 'JobsSubmitted', 2);
  expect(submitted.map((d) => [directiveOf(d), d.Queue, d.JobsSubmitted])).toEqual(
    ['gpu', 'cpu'].map((queue) => [
      {
        Namespace: 'local',
        Dimensions: [['service', 'Queue']],
        Metrics: [{ Name: 'JobsSubmitted', Unit: 'Count' }],
      },
      queue,
      1,
    ]),
  );
  const [cancelledJob] = await metrics.publishedBy('cancel-job', 'JobsEnded');
  expect(directiveOf(cancelledJob)).toEqual({
    Namespace: 'local',
    Dimensions: [['service', 'Status', 'Queue']],
    Metrics: [{ Name: 'JobsEnded', Unit: 'Count' }],
  });
  expect(cancelledJob).toMatchObject({ Status: 'Cancelled', Queue: 'gpu', JobsEnded: 1 });
  const [failedJob] = await metrics.publishedBy('batch-job-state-change', 'JobsEnded');
  expect(failedJob).toMatchObject({ Status: 'Failed', Queue: 'cpu', JobsEnded: 1 });
  expect(failedJob).not.toHaveProperty('JobsSubmitted');
});
