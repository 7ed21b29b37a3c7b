import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ContainerEngine, findContainerEngine } from '../../local/jobs/container-engine';
import { buildNodeImage } from '../../local/jobs/node-image-builder';
import { NO_CONTAINER_ENGINE } from '../../local/local-options';
import { LocalPlatform } from '../../local/local-platform';
import { apiClient } from '../helpers/api-client';
import { completedUpload, endedJob, settledImage } from '../helpers/api-flows';
import { startTestPlatform } from '../helpers/local-platform-fixture';

// Jobs that the runner itself fails, in local mode with real containers: each ends with the
// runner's own reason, naming the limit or the USER, never the algorithm's exit or a runtime's line.
let platform: LocalPlatform;
let call: ReturnType<typeof apiClient>;
let engine: ContainerEngine;
let writer: string;
let scratch: string;
const alice = 'dev-alice';
const MiB = 1024 ** 2;

/** An image of the output writer with the given USER and /etc files. */
function writerImage(tag: string, user: string, etc: Record<string, string> = {}): Promise<string> {
  const files: Record<string, string> = {
    '/opt/algorithm/main.js': path.join(__dirname, 'fixtures/output-writer.js'),
  };
  for (const [name, text] of Object.entries(etc)) {
    const file = path.join(scratch, `${tag.replace(/\W/g, '-')}-${name}`);
    fs.writeFileSync(file, text);
    files[`/etc/${name}`] = file;
  }
  return buildNodeImage(engine, {
    tag,
    files,
    user,
    entrypoint: ['/usr/local/bin/node', '/opt/algorithm/main.js'],
  });
}

beforeAll(async () => {
  const found = findContainerEngine();
  if (!found) throw new Error(NO_CONTAINER_ENGINE);
  engine = found;
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-failures-'));
  writer = await writerImage('localhost/runner-failures-writer:latest', '1000:1000');
  platform = await startTestPlatform(
    { outputFilesPerImageFolder: 3, outputBytes: MiB },
    { jobs: 'run', jobGraceSeconds: 1 },
  );
  call = apiClient(platform.urls.api);
}, 120_000);

afterAll(async () => {
  await platform?.stop();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

const interfaces = [
  {
    inputs: [
      { slug: 'ct-image', kind: 'image', relativePath: 'images/ct' },
      { slug: 'writes', kind: 'json', relativePath: 'writes.json' },
    ],
    outputs: [
      { slug: 'mask', kind: 'image', relativePath: 'images/mask' },
      { slug: 'results', kind: 'json', relativePath: 'results.json' },
    ],
  },
];

function register(image: string) {
  return call('POST', '/v1/algorithms', {
    token: alice,
    body: { title: 'Output writer', image, interfaces },
  });
}

/** Runs the output writer with its `writes` input and reads the job until it ends. */
async function writerJob(writes: Record<string, unknown>, image = writer) {
  const algorithm = await register(image);
  expect(algorithm.status).toBe(201);
  const upload = await completedUpload(
    call,
    alice,
    'ct.mha',
    'ObjectType = Image\nNDims = 2\nDimSize = 2 2\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n\x00\x01\x02\x03',
  );
  const created = await call('POST', '/v1/images', { token: alice, body: { uploads: [upload] } });
  const ct = await settledImage(call, alice, created.body.id);
  const submitted = await call('POST', '/v1/jobs', {
    token: alice,
    body: {
      algorithm: algorithm.body.id,
      inputs: [
        { socket: 'ct-image', image: ct.id },
        { socket: 'writes', value: writes },
      ],
    },
  });
  expect(submitted.status).toBe(201);
  return endedJob(call, alice, submitted.body.id);
}

describe("an output limit hit fails the job with the runner's reason, though the algorithm exited 0", () => {
  test("files past what one image output's folder may hold name limits.outputFilesPerImageFolder", async () => {
    const job = await writerJob({ folder: 'images/mask/parts', count: 3 });
    expect(job).toMatchObject({
      status: 'Failed',
      statusReason:
        'output "mask" (/output/images/mask) holds 4 files, more than the 3 an image output\'s folder may hold (limits.outputFilesPerImageFolder); nothing was stored',
      outputs: [],
    });
    // The reason is in the job's log too, as the runner's line.
    const logs = await call('GET', '/v1/jobs/{jobId}/logs', { token: alice, params: { jobId: job.id } });
    expect(logs.body.lines.map((line: { message: string }) => line.message)).toContain(
      `[platform] ${job.statusReason}`,
    );
  });

  test('bytes past what a job may store name limits.outputBytes', async () => {
    const job = await writerJob({ folder: 'slices', count: 2, bytes: MiB });
    expect(job).toMatchObject({
      status: 'Failed',
      statusReason: `the algorithm wrote more than ${MiB.toLocaleString('en-US')} bytes to /output, the most a job may store (limits.outputBytes); nothing was stored`,
    });
  });

  test('more than 1,000 files outside the image outputs are stored, as grand-challenge stores them', async () => {
    const job = await writerJob({ folder: 'slices', count: 1001 });
    expect(job.status).toBe('Succeeded');
  });
});

test("an uncaught exception of a Node algorithm shows its error, never Node's version line", async () => {
  const job = await writerJob({ throw: 'model weights not found' });
  expect(job).toMatchObject({ status: 'Failed', statusReason: 'Error: model weights not found' });
});

describe("the image's USER is resolved by number at registration, in its own /etc/passwd", () => {
  test('a USER whose passwd entry is uid 0 is root by another name, refused naming it', async () => {
    const toor = await writerImage('localhost/runner-failures-toor:latest', 'toor', {
      passwd: 'root:x:0:0:root:/root:/bin/sh\ntoor:x:0:0:root by another name:/root:/bin/sh\n',
      group: 'root:x:0:\n',
    });
    const refused = await register(toor);
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toBe(
      'body.image runs as root (USER "toor" is uid 0); algorithms run as a non-root user that the image defines',
    );
  });

  test('a USER the image does not define is refused naming it', async () => {
    const ghost = await writerImage('localhost/runner-failures-ghost:latest', 'ghost', {
      passwd: 'root:x:0:0:root:/root:/bin/sh\n',
    });
    const refused = await register(ghost);
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toBe(
      'body.image has USER "ghost", whose user is not in its /etc/passwd; algorithms run as a non-root user that the image defines',
    );
  });

  test('a named user is run as its numbers', async () => {
    const named = await writerImage('localhost/runner-failures-named:latest', 'algo', {
      passwd: 'root:x:0:0:root:/root:/bin/sh\nalgo:x:1234:1234::/tmp:/bin/sh\n',
      group: 'root:x:0:\nalgo:x:1234:\n',
    });
    const job = await writerJob({ folder: 'slices', count: 0 }, named);
    expect(job.status).toBe('Succeeded');
    const results = job.outputs.find((output: { socket: string }) => output.socket === 'results');
    expect(results.value).toEqual({ uid: 1234, gid: 1234 });
  });
});
