import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { ContainerEngine, findContainerEngine } from '../../local/jobs/container-engine';
import { NO_CONTAINER_ENGINE } from '../../local/local-options';
import { LocalPlatform } from '../../local/local-platform';
import { buildNodeImage } from '../../local/jobs/node-image-builder';
import { nameBasedUuid } from '../../lambda/core/name-based-uuid';
import * as path from 'node:path';
import { apiClient } from '../helpers/api-client';
import { endedJob, settledImage } from '../helpers/api-flows';
import { startTestPlatform } from '../helpers/local-platform-fixture';
import { settledValue } from '../helpers/settled-value';

let platform: LocalPlatform;
let call: ReturnType<typeof apiClient>;
let engine: ContainerEngine;
let algorithmId: string;
let algorithmImage: string;
let documents: DynamoDBDocumentClient;
const alice = 'dev-alice';

const node = (user: string) => ({
  files: { '/opt/algorithm/main.js': path.join(__dirname, 'fixtures/image-outputs.js') },
  user,
  entrypoint: ['/usr/local/bin/node', '/opt/algorithm/main.js'],
});

const interfaces = [
  {
    inputs: [{ slug: 'shape', kind: 'json', relativePath: 'shape.json' }],
    outputs: [{ slug: 'mask', kind: 'image', relativePath: 'images/mask' }],
  },
];

beforeAll(async () => {
  const found = findContainerEngine();
  if (!found) throw new Error(NO_CONTAINER_ENGINE);
  engine = found;
  const image = await buildNodeImage(engine, {
    tag: 'localhost/test-image-outputs:latest',
    ...node('1000:1000'),
  });
  platform = await startTestPlatform({}, { jobs: 'run', jobGraceSeconds: 1 });
  call = apiClient(platform.urls.api);
  documents = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: platform.urls.dynamodb }));
  const created = await call('POST', '/v1/algorithms', {
    token: alice,
    body: { title: 'Image outputs', image, interfaces },
  });
  expect(created.status).toBe(201);
  algorithmId = created.body.id;
  algorithmImage = image;
}, 120_000);

afterAll(async () => {
  documents?.destroy();
  await platform?.stop();
});

/** Submits a job of the algorithm with its mask written in the given shape; the job's id. */
async function submitMask(shape: string): Promise<string> {
  const submitted = await call('POST', '/v1/jobs', {
    token: alice,
    body: { algorithm: algorithmId, inputs: [{ socket: 'shape', value: shape }] },
  });
  expect(submitted.status).toBe(201);
  return submitted.body.id;
}

/** Runs the algorithm with its mask written in the given shape, and reads the job until it ends. */
async function jobWithMask(shape: string) {
  return endedJob(call, alice, await submitMask(shape));
}

/** Whether the job's mask output became an image of alice's. */
async function maskImageStatus(jobId: string): Promise<number> {
  const read = await call('GET', '/v1/images/{imageId}', {
    token: alice,
    params: { imageId: nameBasedUuid(jobId, 'mask') },
  });
  return read.status;
}

describe('an image output is read as grand-challenge reads it', () => {
  test('a .mhd header with the .raw file it names is an image output, converted with its data', async () => {
    const job = await jobWithMask('mhd-with-raw');
    expect(job.status).toBe('Succeeded');
    const mask = job.outputs.find((o: { socket: string }) => o.socket === 'mask');
    const image = await settledImage(call, alice, mask.image);
    expect(image).toMatchObject({
      status: 'Succeeded',
      name: 'mask.mhd',
      metadata: { size: [4, 3, 2], spacing: [0.5, 0.5, 2], componentType: 'uint8' },
    });
    const converted = Buffer.from(await (await fetch(image.downloadUrl)).arrayBuffer());
    expect(converted.toString('latin1')).toMatch(/^ObjectType = Image/);
  });
});

describe('an image output the converter cannot read fails the job, naming the file and why', () => {
  test.each([
    [
      'truncated-mha',
      'output "mask" (/output/images/mask): mask.mha cannot be converted: the file is truncated: 20 bytes of voxel data, 24 expected',
    ],
    [
      'mhd-without-raw',
      'output "mask" (/output/images/mask): mask.mhd cannot be converted: the header names the data file "mask.raw", which is not beside it in the output folder',
    ],
    [
      'empty-mha',
      'output "mask" (/output/images/mask): mask.mha cannot be converted: the header has no ElementDataFile line',
    ],
    [
      'not-a-tiff',
      'output "mask" (/output/images/mask): mask.tif cannot be converted: the file does not start with a TIFF header',
    ],
  ])('%s: the job ends Failed and no image of it is registered', async (shape, reason) => {
    const job = await jobWithMask(shape);
    expect(job).toMatchObject({ status: 'Failed', statusReason: reason, outputs: [] });
    expect(await maskImageStatus(job.id)).toBe(404);
  });
});

describe('a job with image outputs waits in Parsing outputs until they are converted, as on grand-challenge', () => {
  const userScope = () => `user#${platform.devUsers.find((u) => u.token === alice)!.claims.sub}`;

  async function activeSlots(): Promise<number> {
    const { Item } = await documents.send(
      new GetCommand({ TableName: platform.settings.activeJobsTable, Key: { scope: userScope() } }),
    );
    return (Item?.active as number | undefined) ?? 0;
  }

  /** As another job of alice's would: a slot a second release would wrongly give back. */
  async function addSlot(change: 1 | -1): Promise<void> {
    await documents.send(
      new UpdateCommand({
        TableName: platform.settings.activeJobsTable,
        Key: { scope: userScope() },
        UpdateExpression: 'ADD active :change',
        ExpressionAttributeValues: { ':change': change },
      }),
    );
  }

  const jobItem = async (id: string) =>
    (await documents.send(new GetCommand({ TableName: platform.settings.jobsTable, Key: { id } }))).Item;

  const readJob = async (id: string) =>
    (await call('GET', '/v1/jobs/{jobId}', { token: alice, params: { jobId: id } })).body;

  /** The converter function given the conversion message of `imageId` again, as a repeated delivery. */
  const deliverConversion = (imageId: string) =>
    platform.functions.get('images/convert-image').invoke({
      Records: [
        {
          messageId: `again-${imageId}`,
          body: JSON.stringify({ imageId }),
          attributes: { ApproximateReceiveCount: '2' },
        } as unknown as SQSEvent['Records'][number],
      ],
    });

  /** The next conversion is held at its first write, the one that claims the image. */
  const holdConversion = () =>
    platform.functions.get('images/convert-image').injectFault({
      host: new URL(platform.urls.dynamodb).host,
      target: 'DynamoDB_20120810.UpdateItem',
      action: 'hold',
    });

  /** Conversion messages delivered again after the job ended: the job and the slots stay as they are. */
  async function expectRepeatsChangeNothing(jobId: string, imageId: string): Promise<void> {
    const before = await jobItem(jobId);
    await addSlot(1);
    try {
      await deliverConversion(imageId);
      await deliverConversion(imageId);
      expect(await jobItem(jobId)).toEqual(before);
      expect(await activeSlots()).toBe(1);
    } finally {
      await addSlot(-1);
    }
  }

  test("an output whose compressed data does not inflate ends the job Failed, naming the output and the converter's reason", async () => {
    const id = await submitMask('corrupt-compressed-mha');
    const seen = new Set<string>();
    let job = await readJob(id);
    while (!['Succeeded', 'Failed', 'Cancelled'].includes(job.status)) {
      seen.add(job.status);
      await new Promise((resolve) => setTimeout(resolve, 50));
      job = await readJob(id);
    }
    // Parsing outputs is seen or not, as the conversion is quick or not; never Succeeded.
    expect(
      [...seen].every((s) => ['Queued', 'Provisioning', 'Executing', 'Parsing outputs'].includes(s)),
    ).toBe(true);
    const image = await settledImage(call, alice, nameBasedUuid(id, 'mask'));
    expect(image.status).toBe('Failed');
    expect(image.errors).toHaveLength(1);
    expect(job).toMatchObject({
      status: 'Failed',
      statusReason: `output "mask" (mask.mha) could not be converted: ${image.errors[0].reason}`,
      outputs: [],
    });
    expect(job.statusReason).toMatch(/^output "mask" \(mask\.mha\) could not be converted: .*\S/);
    expect(await jobItem(id)).toMatchObject({ holdsSlots: false });
    expect((await jobItem(id))!.pendingImages).toBeUndefined();
    expect(await settledValue(activeSlots, 0)).toBe(0);
    await expectRepeatsChangeNothing(id, image.id);
  });

  test('a good output: the job is Parsing outputs while its image converts, then Succeeded with the image, its slot given back once', async () => {
    const held = holdConversion();
    const id = await submitMask('mha');
    await held.struck;
    const imageId = nameBasedUuid(id, 'mask');
    expect(await readJob(id)).toMatchObject({
      status: 'Parsing outputs',
      outputs: [{ socket: 'mask', image: imageId }],
    });
    expect(await jobItem(id)).toMatchObject({ holdsSlots: true, pendingImages: new Set([imageId]) });
    expect(await activeSlots()).toBe(1);
    held.release();

    const job = await endedJob(call, alice, id);
    expect(job).toMatchObject({ status: 'Succeeded', outputs: [{ socket: 'mask', image: imageId }] });
    expect(job.statusReason).toBeUndefined();
    const image = await settledImage(call, alice, imageId);
    expect(image).toMatchObject({ status: 'Succeeded', name: 'mask.mha', metadata: { size: [4, 3, 2] } });
    expect((await jobItem(id))!.pendingImages).toBeUndefined();
    expect(await settledValue(activeSlots, 0)).toBe(0);
    await expectRepeatsChangeNothing(id, imageId);
  });

  test('an output image the dead-letter queue fails ends the job Failed; the conversion let go later changes nothing', async () => {
    const held = holdConversion();
    const id = await submitMask('mha');
    await held.struck;
    const imageId = nameBasedUuid(id, 'mask');
    await platform.functions
      .get('images/fail-unconverted-image')
      .invoke({ Records: [{ messageId: 'dead-1', body: JSON.stringify({ imageId }) }] });
    expect(await readJob(id)).toMatchObject({
      status: 'Failed',
      statusReason:
        'output "mask" (mask.mha) could not be converted: Conversion failed on every try; the files are kept, and the platform team has been alerted',
      outputs: [],
    });
    expect(await activeSlots()).toBe(0);
    held.release();
    expect((await settledImage(call, alice, imageId)).status).toBe('Failed');
    await expectRepeatsChangeNothing(id, imageId);
  });

  test('a cancel while the outputs are parsed wins: the conversion finishing later changes nothing', async () => {
    const held = holdConversion();
    const id = await submitMask('mha');
    await held.struck;
    expect((await readJob(id)).status).toBe('Parsing outputs');
    const cancelled = await call('POST', '/v1/jobs/{jobId}/cancel', { token: alice, params: { jobId: id } });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({
      status: 'Cancelled',
      statusReason: 'cancelled by a user',
      outputs: [],
    });
    expect(await activeSlots()).toBe(0);
    await addSlot(1);
    try {
      held.release();
      const image = await settledImage(call, alice, nameBasedUuid(id, 'mask'));
      expect(image.status).toBe('Succeeded');
      // Its settling, again and again, as repeated messages would.
      await deliverConversion(image.id);
      await deliverConversion(image.id);
      expect(await readJob(id)).toMatchObject({ status: 'Cancelled', outputs: [] });
      expect((await jobItem(id))!.pendingImages).toBeUndefined();
      expect(await activeSlots()).toBe(1);
    } finally {
      await addSlot(-1);
    }
  });
});

describe('a job with two image outputs', () => {
  let twoOutputs: string;

  beforeAll(async () => {
    const created = await call('POST', '/v1/algorithms', {
      token: alice,
      body: {
        title: 'Two image outputs',
        image: algorithmImage,
        interfaces: [
          {
            inputs: interfaces[0].inputs,
            outputs: [
              { slug: 'mask', kind: 'image', relativePath: 'images/mask' },
              { slug: 'overlay', kind: 'image', relativePath: 'images/overlay' },
            ],
          },
        ],
      },
    });
    expect(created.status).toBe(201);
    twoOutputs = created.body.id;
  });

  async function twoImageJob(shape: string) {
    const submitted = await call('POST', '/v1/jobs', {
      token: alice,
      body: { algorithm: twoOutputs, inputs: [{ socket: 'shape', value: shape }] },
    });
    expect(submitted.status).toBe(201);
    return endedJob(call, alice, submitted.body.id);
  }

  test('ends Succeeded once both are converted, however their conversions interleave', async () => {
    const job = await twoImageJob('two-images');
    expect(job).toMatchObject({ status: 'Succeeded' });
    for (const socket of ['mask', 'overlay']) {
      const image = await settledImage(call, alice, nameBasedUuid(job.id, socket));
      expect([socket, image.status]).toEqual([socket, 'Succeeded']);
      expect(job.outputs).toContainEqual(expect.objectContaining({ socket, image: image.id }));
    }
  });

  test('ends Failed naming the output that could not be converted, while the other converted', async () => {
    const job = await twoImageJob('two-images-corrupt-overlay');
    const overlay = await settledImage(call, alice, nameBasedUuid(job.id, 'overlay'));
    expect(job).toMatchObject({
      status: 'Failed',
      statusReason: `output "overlay" (overlay.mha) could not be converted: ${overlay.errors[0].reason}`,
      outputs: [],
    });
    expect((await settledImage(call, alice, nameBasedUuid(job.id, 'mask'))).status).toBe('Succeeded');
  });
});

describe('an invoke-mode image', () => {
  test('is refused when it is registered, saying why and what to do instead', async () => {
    const image = await buildNodeImage(engine, {
      tag: 'localhost/test-invoke-mode:latest',
      ...node('1000:1000'),
      labels: { 'org.grand-challenge.api-method': 'invoke' },
    });
    const refused = await call('POST', '/v1/algorithms', {
      token: alice,
      body: { title: 'Invoke mode', image, interfaces },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toMatch(
      /is an invoke-mode image \(LABEL org\.grand-challenge\.api-method="invoke", a server answering \/health and \/invoke\), which this platform does not run.*Build it without that label/,
    );
    const listed = await call('GET', '/v1/algorithms', { token: alice });
    expect(listed.body.items.map((a: { title: string }) => a.title)).not.toContain('Invoke mode');
  });
});
