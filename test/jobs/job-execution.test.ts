import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ContainerEngine, findContainerEngine } from '../../local/jobs/container-engine';
import { newResultSigningKey, ResultRecord, signResult } from '../../lambda/jobs/result-record';
import { writableRootFullReason } from '../../containers/jobs/runner/writable-root';
import { NO_CONTAINER_ENGINE } from '../../local/local-options';
import { LocalPlatform } from '../../local/local-platform';
import { EXAMPLE_ALGORITHM } from '../../containers/algorithms/example-threshold/deploy';
import { buildNodeImage } from '../../local/jobs/node-image-builder';
import { apiClient } from '../helpers/api-client';
import { convertedImage, endedJob, settledImage } from '../helpers/api-flows';
import { startTestPlatform } from '../helpers/local-platform-fixture';

let platform: LocalPlatform;
let call: ReturnType<typeof apiClient>;
let documents: DynamoDBDocumentClient;
let engine: ContainerEngine;
const images: Record<'threshold' | 'behaviours' | 'root', string> = {
  threshold: '',
  behaviours: '',
  root: '',
};
const alice = 'dev-alice';
/** The least an algorithm may write outside /output, so that filling it is quick. */
const WRITABLE_ROOT_BYTES = 64 * 1024 ** 2;

beforeAll(async () => {
  const found = findContainerEngine();
  if (!found) throw new Error(NO_CONTAINER_ENGINE);
  engine = found;
  const node = (script: string, user: string) => ({
    files: { '/opt/algorithm/main.js': script },
    user,
    entrypoint: ['/usr/local/bin/node', '/opt/algorithm/main.js'],
  });
  images.threshold = await buildNodeImage(engine, {
    ...EXAMPLE_ALGORITHM,
    tag: 'localhost/test-threshold:latest',
  });
  const behaviours = path.join(__dirname, 'fixtures/behaviours.js');
  images.behaviours = await buildNodeImage(engine, {
    tag: 'localhost/test-behaviours:latest',
    ...node(behaviours, '1000:1000'),
  });
  images.root = await buildNodeImage(engine, {
    tag: 'localhost/test-as-root:latest',
    ...node(behaviours, ''),
  });
  platform = await startTestPlatform(
    { writableRootBytes: WRITABLE_ROOT_BYTES },
    { jobs: 'run', jobGraceSeconds: 1 },
  );
  call = apiClient(platform.urls.api);
  documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
}, 120_000);

afterAll(async () => {
  documents?.destroy();
  await platform?.stop();
});

const outputs = [
  { slug: 'mask', kind: 'image', relativePath: 'images/mask' },
  { slug: 'results', kind: 'json', relativePath: 'results.json', schema: { type: 'object' } },
];

/**
 * An algorithm of alice's; limits below what the API allows are written into its record, so
 * that the tests of the time and memory limits are short.
 */
async function algorithm(
  image: string,
  secondInput: string,
  limits: { timeLimitSeconds?: number; memoryGb?: number } = {},
): Promise<string> {
  const created = await call('POST', '/v1/algorithms', {
    token: alice,
    body: {
      title: 'Threshold',
      image,
      interfaces: [
        {
          inputs: [
            { slug: 'ct-image', kind: 'image', relativePath: 'images/ct' },
            { slug: secondInput, kind: 'json', relativePath: `${secondInput}.json` },
          ],
          outputs,
        },
      ],
    },
  });
  expect(created.status).toBe(201);
  if (Object.keys(limits).length > 0) {
    const names = Object.keys(limits);
    await documents.send(
      new UpdateCommand({
        TableName: platform.settings.algorithmsTable,
        Key: { id: created.body.id },
        UpdateExpression: `SET ${names.map((n) => `${n} = :${n}`).join(', ')}`,
        ExpressionAttributeValues: Object.fromEntries(Object.entries(limits).map(([n, v]) => [`:${n}`, v])),
      }),
    );
  }
  return created.body.id;
}

/** Submits a job and reads it until it ends. */
async function finishedJob(algorithmId: string, inputs: unknown[]) {
  const submitted = await call('POST', '/v1/jobs', {
    token: alice,
    body: { algorithm: algorithmId, inputs },
  });
  expect(submitted.status).toBe(201);
  return endedJob(call, alice, submitted.body.id);
}

const behaviourJob = async (
  behaviour: Record<string, unknown>,
  limits: { timeLimitSeconds?: number; memoryGb?: number } = {},
) => {
  const algorithmId = await algorithm(images.behaviours, 'behaviour', limits);
  return finishedJob(algorithmId, [
    { socket: 'ct-image', image: await convertedImage(call, alice) },
    { socket: 'behaviour', value: behaviour },
  ]);
};

describe('a job runs in a real container', () => {
  test('the example algorithm segments an uploaded image; its outputs download through signed URLs', async () => {
    const algorithmId = await algorithm(images.threshold, 'threshold');
    const job = await finishedJob(algorithmId, [
      { socket: 'ct-image', image: await convertedImage(call, alice) },
      { socket: 'threshold', value: 100 },
    ]);
    expect(job).toMatchObject({ status: 'Succeeded' });
    const results = job.outputs.find((o: { socket: string }) => o.socket === 'results');
    // Values 0 to 230 in steps of 10: 100 and above are 14 of 24.
    expect(results.value).toEqual({ threshold: 100, voxels: 24, foreground: 14, fraction: 14 / 24 });
    const mask = job.outputs.find((o: { socket: string }) => o.socket === 'mask');
    const download = await fetch(mask.url);
    expect(download.status).toBe(200);
    const bytes = Buffer.from(await download.arrayBuffer());
    expect(bytes.toString('latin1')).toContain('DimSize = 4 3 2');
    expect(bytes.toString('latin1')).toContain('ElementType = MET_UCHAR');
    // The mask also went through the converter, as an image of the job's owner.
    const image = await settledImage(call, alice, mask.image);
    expect(image).toMatchObject({
      status: 'Succeeded',
      name: 'mask.mha',
      metadata: { size: [4, 3, 2], spacing: [0.5, 0.5, 2], componentType: 'uint8' },
    });
    const converted = Buffer.from(await (await fetch(image.downloadUrl)).arrayBuffer());
    expect(converted.toString('latin1')).toMatch(/^ObjectType = Image/);
  });

  test('JSON with NaN, as Python writes it, is read with null in its place', async () => {
    const job = await behaviourJob({ mode: 'succeed' });
    expect(job.status).toBe('Succeeded');
    expect(job.outputs.find((o: { socket: string }) => o.socket === 'results').value).toEqual({
      volume: null,
      ok: true,
    });
  });
});

describe("a job's log", () => {
  test('reads while the job runs, and after it is cancelled', async () => {
    const algorithmId = await algorithm(images.behaviours, 'behaviour');
    const submitted = await call('POST', '/v1/jobs', {
      token: alice,
      body: {
        algorithm: algorithmId,
        inputs: [
          { socket: 'ct-image', image: await convertedImage(call, alice) },
          { socket: 'behaviour', value: { mode: 'print-then-wait' } },
        ],
      },
    });
    expect(submitted.status).toBe(201);
    const jobId = submitted.body.id as string;
    const read = async () => {
      const logs = await call('GET', '/v1/jobs/{jobId}/logs', { token: alice, params: { jobId } });
      expect(logs.status).toBe(200);
      return logs.body.lines.map((l: { source: string; message: string }) => [l.source, l.message]);
    };
    const printed = [
      ['stdout', 'step 1 of 2 done'],
      ['stderr', 'step 2 takes a while'],
    ];
    let lines: unknown[] = [];
    for (let i = 0; i < 600 && lines.length < printed.length; i++) {
      lines = await read();
      if (lines.length < printed.length) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(lines).toEqual(printed);
    const running = await call('GET', '/v1/jobs/{jobId}', { token: alice, params: { jobId } });
    expect(running.body.status).toBe('Executing');

    const cancelled = await call('POST', '/v1/jobs/{jobId}/cancel', { token: alice, params: { jobId } });
    expect(cancelled.body).toMatchObject({ status: 'Cancelled' });
    await platform.jobs!.idle();
    expect(await read()).toEqual(printed);
  });
});

describe('a job that goes wrong ends Failed with the reason', () => {
  test('a non-zero exit shows the last line on stderr; editors read every line', async () => {
    const job = await behaviourJob({ mode: 'fail' });
    expect(job).toMatchObject({
      status: 'Failed',
      statusReason: 'model weights not found: /opt/ml/model/weights.pt',
      outputs: [],
    });
    const logs = await call('GET', '/v1/jobs/{jobId}/logs', { token: alice, params: { jobId: job.id } });
    expect(logs.body.lines.map((l: { source: string; message: string }) => [l.source, l.message])).toEqual([
      ['stdout', 'loading the model'],
      ['stderr', 'warming up'],
      ['stderr', 'model weights not found: /opt/ml/model/weights.pt'],
    ]);
  });

  test('exceeding the memory limit', async () => {
    const job = await behaviourJob({ mode: 'memory' }, { memoryGb: 0.25 });
    expect(job).toMatchObject({ status: 'Failed', statusReason: 'the algorithm exceeded its memory limit' });
  });

  test('exceeding the time limit, even when the algorithm ignores SIGTERM', async () => {
    const job = await behaviourJob({ mode: 'sleep' }, { timeLimitSeconds: 2 });
    expect(job).toMatchObject({ status: 'Failed', statusReason: 'time limit exceeded' });
  });

  test('writing more than limits.writableRootBytes outside /output', async () => {
    const started = Date.now();
    const job = await behaviourJob({ mode: 'fill-root' }, { timeLimitSeconds: 120 });
    expect(job).toMatchObject({
      status: 'Failed',
      statusReason: writableRootFullReason(WRITABLE_ROOT_BYTES),
      outputs: [],
    });
    // Stopped for it, not by the time limit.
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  test('an output socket left empty', async () => {
    const job = await behaviourJob({ mode: 'no-mask' });
    expect(job).toMatchObject({
      status: 'Failed',
      statusReason:
        'output "mask" (/output/images/mask) holds 0 images; exactly one .mha, .mhd (with its data file) or .tif is expected',
    });
  });

  test('a result record whose signature does not match is refused, and its outputs discarded', async () => {
    // While the job runs, a forged record (signed with another key) and a forged end event.
    const algorithmId = await algorithm(images.behaviours, 'behaviour', { timeLimitSeconds: 5 });
    const submitted = await call('POST', '/v1/jobs', {
      token: alice,
      body: {
        algorithm: algorithmId,
        inputs: [
          { socket: 'ct-image', image: await convertedImage(call, alice) },
          { socket: 'behaviour', value: { mode: 'sleep' } },
        ],
      },
    });
    const jobId = submitted.body.id as string;
    for (let i = 0; i < 200; i++) {
      const read = await call('GET', '/v1/jobs/{jobId}', { token: alice, params: { jobId } });
      if (read.body.status === 'Executing') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const forged: ResultRecord = { jobId, returnCode: 0, execDuration: 1, timedOut: false, outputs: [] };
    const s3 = new S3Client({ forcePathStyle: true });
    await s3.send(
      new PutObjectCommand({
        Bucket: platform.settings.imagingBucket,
        Key: `jobs/${jobId}/result.json`,
        Body: signResult(forged, newResultSigningKey()),
      }),
    );
    s3.destroy();
    const batchJob = platform.batch.jobs.find((j) => j.jobName === jobId)!;
    const onBatchEvent = (event: unknown) =>
      platform.functions.get('jobs/batch-job-state-change').invoke(event);
    await onBatchEvent({
      source: 'aws.batch',
      'detail-type': 'Batch Job State Change',
      detail: { jobId: batchJob.jobId, jobName: jobId, jobQueue: batchJob.jobQueue, status: 'SUCCEEDED' },
    });
    const read = await call('GET', '/v1/jobs/{jobId}', { token: alice, params: { jobId } });
    expect(read.body).toMatchObject({
      status: 'Failed',
      statusReason: "the result record's signature does not match; the outputs were discarded",
      outputs: [],
    });
  });
});

describe('the algorithm is sealed off', () => {
  let server: net.Server;
  let address: { host: string; port: number };
  beforeAll(async () => {
    // A server on every address of this machine: an algorithm with any network would reach it.
    server = net.createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
    const external = Object.values(os.networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal);
    address = { host: external?.address ?? '127.0.0.1', port: (server.address() as net.AddressInfo).port };
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  test('no network, no credentials or platform variables, a read-only /input, its own non-root user', async () => {
    expect(await reachable(address)).toBe(true);
    const job = await behaviourJob({ mode: 'probe', target: address });
    expect(job.status).toBe('Succeeded');
    const findings = job.outputs.find((o: { socket: string }) => o.socket === 'results').value;
    expect(findings).toMatchObject({
      user: 1000,
      credentialVariables: [],
      inputWritable: false,
      reachesPlatform: false,
      reachesMetadata: false,
      reachesInternet: false,
    });
    expect(
      findings.environment.filter(
        (name: string) => !['PATH', 'HOSTNAME', 'HOME', 'container', 'TERM'].includes(name),
      ),
    ).toEqual([]);
  });

  test('its root file system is writable and its own: what one job wrote, the next does not find', async () => {
    for (let run = 0; run < 2; run++) {
      const job = await behaviourJob({ mode: 'write-root' });
      expect(job.status).toBe('Succeeded');
      expect(job.outputs.find((o: { socket: string }) => o.socket === 'results').value).toEqual({
        earlierMark: false,
        tmpWritable: true,
        rootFolderWritable: false,
      });
    }
  });

  test('an image that runs as root is refused when it is registered, before it can run', async () => {
    const refused = await call('POST', '/v1/algorithms', {
      token: alice,
      body: {
        title: 'As root',
        image: images.root,
        interfaces: [{ inputs: [{ slug: 'ct-image', kind: 'image', relativePath: 'images/ct' }], outputs }],
      },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toMatch(/runs as root/);
  });
});

function reachable(target: { host: string; port: number }): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(target);
    socket.on('connect', () => (socket.destroy(), resolve(true)));
    socket.on('error', () => resolve(false));
  });
}
