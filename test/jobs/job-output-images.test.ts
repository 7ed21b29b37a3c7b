import { ContainerEngine, findContainerEngine } from '../../local/jobs/container-engine';
import { NO_CONTAINER_ENGINE } from '../../local/local-options';
import { LocalPlatform } from '../../local/local-platform';
import { buildNodeImage } from '../../local/jobs/node-image-builder';
import { nameBasedUuid } from '../../lambda/core/name-based-uuid';
import * as path from 'node:path';
import { apiClient } from '../helpers/api-client';
import { endedJob, settledImage } from '../helpers/api-flows';
import { startTestPlatform } from '../helpers/local-platform-fixture';

let platform: LocalPlatform;
let call: ReturnType<typeof apiClient>;
let engine: ContainerEngine;
let algorithmId: string;
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
  const created = await call('POST', '/v1/algorithms', {
    token: alice,
    body: { title: 'Image outputs', image, interfaces },
  });
  expect(created.status).toBe(201);
  algorithmId = created.body.id;
}, 120_000);

afterAll(async () => {
  await platform?.stop();
});

/** Runs the algorithm with its mask written in the given shape, and reads the job until it ends. */
async function jobWithMask(shape: string) {
  const submitted = await call('POST', '/v1/jobs', {
    token: alice,
    body: { algorithm: algorithmId, inputs: [{ socket: 'shape', value: shape }] },
  });
  expect(submitted.status).toBe(201);
  return endedJob(call, alice, submitted.body.id);
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
