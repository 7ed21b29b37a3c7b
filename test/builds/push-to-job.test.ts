import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { pushAlgorithm } from '../../bin/builds/push-algorithm';
import { buildExampleBaseImage } from '../../local/builds/example-base-image';
import { findContainerEngine } from '../../local/jobs/container-engine';
import { LocalPlatform } from '../../local/local-platform';
import { apiClient } from '../helpers/api-client';
import { convertedImage, endedJob } from '../helpers/api-flows';
import { startTestPlatform } from '../helpers/local-platform-fixture';

const FOLDER = path.join(__dirname, '..', '..', 'containers', 'algorithms', 'example-threshold');
const engine = findContainerEngine();
if (!engine) throw new Error('these tests build images: install podman or docker');

let platform: LocalPlatform;
let call: ReturnType<typeof apiClient>;

beforeAll(async () => {
  await buildExampleBaseImage(engine);
  platform = await startTestPlatform({}, { jobs: 'run' });
  call = apiClient(platform.urls.api);
}, 120_000);

/** Images the tests made, removed at the end: the engine is this machine's. */
const made: string[] = [];

afterAll(async () => {
  await platform.stop();
  for (const image of made) execFileSync(engine.command, ['rmi', image], { stdio: 'ignore' });
});

const threshold = {
  title: 'Threshold',
  interfaces: [
    {
      inputs: [
        { slug: 'ct-image', kind: 'image', relativePath: 'images/ct' },
        { slug: 'threshold', kind: 'json', relativePath: 'threshold.json', schema: { type: 'number' } },
      ],
      outputs: [
        { slug: 'mask', kind: 'image', relativePath: 'images/mask' },
        { slug: 'results', kind: 'json', relativePath: 'results.json' },
      ],
    },
  ],
};

const push = async (argv: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await pushAlgorithm(
    argv,
    {},
    { out: (l) => out.push(l), err: (l) => err.push(l), pollMs: 200 },
  );
  return { code, out, err };
};

test('a pushed folder is built, becomes the active version, and its jobs run', async () => {
  const algorithm = await call('POST', '/v1/algorithms', { token: 'dev-alice', body: threshold });
  const pushed = await push([
    FOLDER,
    '--algorithm',
    algorithm.body.id,
    '--api',
    `${platform.urls.api}/v1`,
    '--token',
    'dev-alice',
  ]);
  expect(pushed.err).toEqual([]);
  expect(pushed.code).toBe(0);
  expect(pushed.out).toEqual(
    expect.arrayContaining([
      'BUILD_PHASE build',
      'STEP 3/4: USER node',
      expect.stringMatching(/^status: Succeeded/),
      expect.stringMatching(/^image: localhost\/local\/algorithms@sha256:[0-9a-f]{64}$/),
    ]),
  );
  const read = await call('GET', '/v1/algorithms/{algorithmId}', {
    token: 'dev-alice',
    params: { algorithmId: algorithm.body.id },
  });
  const version = read.body.activeVersion as { id: string; image: string };
  expect(pushed.out).toContain(`version: ${version.id}`);
  // The image stays in the local engine, tagged for its version; its candidate tag is gone.
  const tags = execFileSync(
    engine.command,
    ['images', 'localhost/local/algorithms', '--format', '{{.Tag}}'],
    { encoding: 'utf8' },
  );
  expect(tags.split('\n')).toContain(`version-${version.id}`);
  made.push(`localhost/local/algorithms:version-${version.id}`);

  const imageId = await convertedImage(call, 'dev-alice');
  const job = await call('POST', '/v1/jobs', {
    token: 'dev-alice',
    body: {
      algorithm: algorithm.body.id,
      inputs: [
        { socket: 'ct-image', image: imageId },
        { socket: 'threshold', value: 100 },
      ],
    },
  });
  expect(job.status).toBe(201);
  const ended = await endedJob(call, 'dev-alice', job.body.id);
  expect(ended.status).toBe('Succeeded');
  const results = ended.outputs.find((o: { socket: string }) => o.socket === 'results');
  // Voxels 0, 10, ... 230: fourteen of them are 100 or more.
  expect(results.value).toEqual({ threshold: 100, voxels: 24, foreground: 14, fraction: 14 / 24 });
}, 240_000);

test('a build that fails exits 1 with the reason, and no version changes', async () => {
  const algorithm = await call('POST', '/v1/algorithms', { token: 'dev-alice', body: threshold });
  const folder = path.join(platform.dataDir, 'broken-context');
  execFileSync('mkdir', ['-p', folder]);
  execFileSync('sh', [
    '-c',
    `printf 'FROM public.ecr.aws/docker/library/node:22-slim\\nCOPY missing.js /x.js\\n' > ${folder}/Dockerfile`,
  ]);
  const pushed = await push([
    folder,
    '--algorithm',
    algorithm.body.id,
    '--api',
    `${platform.urls.api}/v1`,
    '--token',
    'dev-alice',
  ]);
  expect(pushed.code).toBe(1);
  expect(pushed.err.join('\n')).toMatch(/^the build failed: .*missing\.js/);
  const read = await call('GET', '/v1/algorithms/{algorithmId}', {
    token: 'dev-alice',
    params: { algorithmId: algorithm.body.id },
  });
  expect(read.body.activeVersion).toBeUndefined();
}, 240_000);
