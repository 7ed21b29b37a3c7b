import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { pushAlgorithm } from '../../bin/builds/push-algorithm';
import { buildExampleBaseImage } from '../../local/builds/example-base-image';
import { isPodman } from '../../containers/jobs/runner/image-engine';
import { findContainerEngine } from '../../local/jobs/container-engine';
import { LocalPlatform } from '../../local/local-platform';
import { localTableName } from '../../local/local-settings';
import { TarEntry, tarArchive } from '../../packages/image-io/test/helpers/tar-archive';
import { apiClient } from '../helpers/api-client';
import { convertedImage, endedJob } from '../helpers/api-flows';
import { startTestPlatform } from '../helpers/local-platform-fixture';
import { settledValue } from '../helpers/settled-value';

// Pushes through the whole local pipeline (upload, the builder in podman or docker, the checks,
// registration): the example algorithm's folder pushed with `npm run push-algorithm` becomes a
// version whose job succeeds, builds of two algorithms at once both finish, a new version retires
// the one before, and every bad push ends as its reason says and leaves nothing behind.

const BASE = 'public.ecr.aws/docker/library/node:22-slim';
const EXAMPLE = path.join(__dirname, '..', '..', 'containers', 'algorithms', 'example-threshold');
const REPOSITORY = 'localhost/local/algorithms';
/** A base image an author's machine may hold for another platform than the one jobs run on. */
const ARM64_BASE = 'localhost/pushes-test-arm64-base:latest';
const engine = findContainerEngine();
if (!engine) throw new Error('these tests build images: install podman or docker');

let platform: LocalPlatform;
let call: ReturnType<typeof apiClient>;
let db: DynamoDBDocumentClient;
let alice: string;

beforeAll(async () => {
  await buildExampleBaseImage(engine);
  const arm64 = fs.mkdtempSync(path.join(os.tmpdir(), 'arm64-base-'));
  fs.writeFileSync(path.join(arm64, 'Dockerfile'), 'FROM scratch\nCOPY Dockerfile /Dockerfile\n');
  execFileSync(engine.command, ['build', '--platform', 'linux/arm64', '--tag', ARM64_BASE, arm64], {
    stdio: 'ignore',
  });
  fs.rmSync(arm64, { recursive: true });
  made.push(ARM64_BASE);
  platform = await startTestPlatform({}, { jobs: 'run' });
  call = apiClient(platform.urls.api);
  alice = platform.devUsers.find((u) => u.token === 'dev-alice')!.claims.sub;
  db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
}, 120_000);

/** Version images the tests made, removed at the end: the engine is this machine's. */
const made: string[] = [];

afterAll(async () => {
  db.destroy();
  await platform.stop();
  if (made.length > 0) execFileSync(engine.command, ['rmi', '--force', ...made], { stdio: 'ignore' });
});

const dockerfile = (...lines: string[]) => ({
  name: 'Dockerfile',
  content: [`FROM ${BASE}`, ...lines].join('\n'),
});
const program = {
  name: 'main.js',
  content: "require('node:fs').writeFileSync('/output/results.json', '{}');\n",
};
const GOOD = [
  dockerfile(
    'COPY main.js /opt/algorithm/main.js',
    'USER node',
    'ENTRYPOINT ["node", "/opt/algorithm/main.js"]',
  ),
  program,
];

async function newAlgorithm(client = call): Promise<string> {
  const created = await client('POST', '/v1/algorithms', {
    token: 'dev-alice',
    body: {
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
    },
  });
  expect(created.status).toBe(201);
  return created.body.id;
}

async function usage(): Promise<{ uploadBytes: number; activeBuilds: number }> {
  const { Item } = await db.send(
    new GetCommand({ TableName: localTableName('usage'), Key: { userId: alice } }),
  );
  return { uploadBytes: Item?.uploadBytes ?? 0, activeBuilds: Item?.activeBuilds ?? 0 };
}

/** Pushes `entries` as a `.tar.gz` context through the API, as any client does, and reads the build until it ends. */
async function push(algorithmId: string, entries: readonly TarEntry[], client = call) {
  const context = gzipSync(tarArchive(entries));
  const created = await client('POST', '/v1/algorithms/{algorithmId}/builds', {
    token: 'dev-alice',
    params: { algorithmId },
    body: { filename: 'context.tar.gz', size: context.length },
  });
  expect(created.status).toBe(201);
  const { build, upload } = created.body;
  const signed = await client('POST', '/v1/uploads/{uploadId}/parts', {
    token: 'dev-alice',
    params: { uploadId: upload.id },
    body: { partNumbers: [1] },
  });
  const put = await fetch(signed.body.parts[0].url, { method: 'PUT', body: context });
  const completed = await client('POST', '/v1/uploads/{uploadId}/complete', {
    token: 'dev-alice',
    params: { uploadId: upload.id },
    body: { parts: [{ partNumber: 1, etag: put.headers.get('etag') }] },
  });
  expect(completed.status).toBe(200);
  return ended(algorithmId, build.id, client);
}

/**
 * Whether the local registry's repository holds `tag`. One image inspected, not every image
 * listed: a listing fails while another test removes some image at the same moment.
 */
const tagged = (tag: string): boolean => {
  try {
    execFileSync(engine.command, ['image', 'inspect', '--format', '{{.Id}}', `${REPOSITORY}:${tag}`], {
      encoding: 'utf8',
      stdio: 'pipe',
    });
    return true;
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr);
    if (/not known|no such image/i.test(stderr)) return false;
    // Caught mid-removal, the tag still names an image whose record is going: not gone yet.
    if (/inspecting object: parsing named reference/.test(stderr)) return true;
    throw err;
  }
};

const BAD_PUSHES: readonly { what: string; entries: readonly TarEntry[]; reason: RegExp }[] = [
  { what: 'no Dockerfile', entries: [program], reason: /Dockerfile/ },
  {
    what: 'a path that escapes',
    entries: [...GOOD, { name: '../escaped.js', content: 'x' }],
    reason: /\.\./,
  },
  {
    what: 'an absolute path',
    entries: [...GOOD, { name: '/etc/evil', content: 'x' }],
    reason: /\/etc\/evil/,
  },
  {
    what: 'a link out of the context',
    entries: [...GOOD, { name: 'passwd', type: '2', linkName: '../../../etc/passwd' }],
    reason: /passwd/,
  },
  {
    what: 'an image that runs as root',
    entries: [
      dockerfile('COPY main.js /opt/main.js', 'USER root', 'ENTRYPOINT ["node", "/opt/main.js"]'),
      program,
    ],
    reason: /runs as root/,
  },
  {
    what: 'an image that is not linux/amd64',
    entries: [
      { name: 'Dockerfile', content: `FROM ${ARM64_BASE}\nCOPY main.js /opt/main.js\nUSER 1000\n` },
      program,
    ],
    reason: /base image localhost\/pushes-test-arm64-base:latest is built for linux\/arm64/,
  },
  {
    what: 'an image the checks refuse at registration',
    entries: [
      dockerfile(
        'COPY main.js /opt/main.js',
        'LABEL org.grand-challenge.api-method="invoke"',
        'USER node',
        'ENTRYPOINT ["node", "/opt/main.js"]',
      ),
      program,
    ],
    reason: /invoke-mode image/,
  },
];

describe('bad pushes end Failed with their reason and leave nothing behind', () => {
  test.each(BAD_PUSHES)(
    '$what',
    async ({ entries, reason }) => {
      const algorithmId = await newAlgorithm();
      const before = await usage();
      const definitions = platform.batch.jobDefinitions.length;
      const build = await push(algorithmId, entries);
      expect(build.status).toBe('Failed');
      expect(build.statusDetail).toMatch(reason);
      const algorithm = await call('GET', '/v1/algorithms/{algorithmId}', {
        token: 'dev-alice',
        params: { algorithmId },
      });
      expect(algorithm.body.activeVersion).toBeUndefined();
      expect(platform.batch.jobDefinitions).toHaveLength(definitions);
      expect(await settledValue(async () => tagged(`build-${build.id}`), false)).toBe(false);
      // The context's bytes are back in the quota, and the build's slot is free.
      expect(await settledValue(usage, before)).toEqual(before);
    },
    120_000,
  );

  test('a context over builds.contextBytes is refused before anything is made', async () => {
    const algorithmId = await newAlgorithm();
    const before = await usage();
    const refused = await call('POST', '/v1/algorithms/{algorithmId}/builds', {
      token: 'dev-alice',
      params: { algorithmId },
      body: { filename: 'context.tar.gz', size: platform.settings.buildContextBytes + 1 },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain('builds.contextBytes');
    expect(await usage()).toEqual(before);
  });
});

/** Reads a build until it ends. */
async function ended(algorithmId: string, buildId: string, client = call) {
  for (;;) {
    const read = await client('GET', '/v1/algorithms/{algorithmId}/builds/{buildId}', {
      token: 'dev-alice',
      params: { algorithmId, buildId },
    });
    if (['Succeeded', 'Failed', 'Cancelled'].includes(read.body.status)) return read.body;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** `npm run push-algorithm` of `folder`, as an author runs it; what it printed, and the build it made. */
async function pushFolder(algorithmId: string, folder: string) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await pushAlgorithm(
    [folder, '--algorithm', algorithmId, '--api', `${platform.urls.api}/v1`, '--token', 'dev-alice'],
    {},
    { out: (line) => out.push(line), err: (line) => err.push(line), pollMs: 200 },
  );
  const buildId = out.map((line) => /^build (\S+): uploading$/.exec(line)?.[1]).find(Boolean)!;
  return { code, out, err, build: await ended(algorithmId, buildId) };
}

describe('good pushes', () => {
  let example: string;
  let other: string;
  let first: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

  test("the example's folder pushed with npm run push-algorithm and another algorithm's context at once: both become active versions", async () => {
    [example, other] = [await newAlgorithm(), await newAlgorithm()];
    const [cli, api] = await Promise.all([pushFolder(example, EXAMPLE), push(other, GOOD)]);
    expect(cli.err).toEqual([]);
    expect(cli.code).toBe(0);
    expect(cli.out).toEqual(
      expect.arrayContaining([
        'BUILD_PHASE build',
        expect.stringMatching(/^status: Succeeded/),
        expect.stringMatching(/^image: localhost\/local\/algorithms@sha256:[0-9a-f]{64}$/),
        `version: ${cli.build.versionId}`,
      ]),
    );
    first = api;
    for (const [algorithmId, build] of [
      [example, cli.build],
      [other, api],
    ] as const) {
      expect(build.status).toBe('Succeeded');
      const read = await call('GET', '/v1/algorithms/{algorithmId}', {
        token: 'dev-alice',
        params: { algorithmId },
      });
      expect(read.body.activeVersion).toMatchObject({ id: build.versionId, image: build.image });
      // The image stays in the local engine under its version's tag; its build's tag is gone.
      expect(tagged(`version-${build.versionId}`)).toBe(true);
      expect(tagged(`build-${build.id}`)).toBe(false);
      made.push(`${REPOSITORY}:version-${build.versionId}`);
    }
    expect(await settledValue(async () => (await usage()).activeBuilds, 0)).toBe(0);
  }, 180_000);

  test('a job on the version the example became succeeds', async () => {
    const imageId = await convertedImage(call, 'dev-alice');
    const job = await call('POST', '/v1/jobs', {
      token: 'dev-alice',
      body: {
        algorithm: example,
        inputs: [
          { socket: 'ct-image', image: imageId },
          { socket: 'threshold', value: 100 },
        ],
      },
    });
    expect(job.status).toBe(201);
    const done = await endedJob(call, 'dev-alice', job.body.id);
    expect(done.status).toBe('Succeeded');
    const results = done.outputs.find((o: { socket: string }) => o.socket === 'results');
    // Voxels 0, 10, ... 230: fourteen of them are 100 or more.
    expect(results.value).toEqual({ threshold: 100, voxels: 24, foreground: 14, fraction: 14 / 24 });
  }, 120_000);

  test("a new version retires the one before: its image moves from its version's tag to a retired one", async () => {
    const second = await push(other, [...GOOD, { name: 'notes.txt', content: 'a second version' }]);
    expect(second.status).toBe('Succeeded');
    made.push(`${REPOSITORY}:retired-${first.versionId}`, `${REPOSITORY}:version-${second.versionId}`);
    expect(tagged(`version-${first.versionId}`)).toBe(false);
    expect(tagged(`retired-${first.versionId}`)).toBe(true);
    expect(tagged(`version-${second.versionId}`)).toBe(true);
  }, 120_000);
});

test('a Dockerfile that fails to build: npm run push-algorithm exits 1 with the failing step', async () => {
  const algorithmId = await newAlgorithm();
  const before = await usage();
  const folder = fs.mkdtempSync(path.join(platform.dataDir, 'broken-context-'));
  fs.writeFileSync(path.join(folder, 'Dockerfile'), `FROM ${BASE}\nCOPY missing.js /x.js\nUSER node\n`);
  const definitions = platform.batch.jobDefinitions.length;
  const pushed = await pushFolder(algorithmId, folder);
  expect(pushed.code).toBe(1);
  expect(pushed.err.join('\n')).toMatch(
    /^the build failed: the Dockerfile failed at step 2\/3 .*missing\.js/,
  );
  const algorithm = await call('GET', '/v1/algorithms/{algorithmId}', {
    token: 'dev-alice',
    params: { algorithmId },
  });
  expect(algorithm.body.activeVersion).toBeUndefined();
  expect(platform.batch.jobDefinitions).toHaveLength(definitions);
  expect(await settledValue(async () => tagged(`build-${pushed.build.id}`), false)).toBe(false);
  expect(await settledValue(usage, before)).toEqual(before);
}, 120_000);

test('a build over the time limit ends Failed naming the limit, and leaves nothing behind', async () => {
  // Local mode of its own, whose builds may run 4 seconds.
  const timed = await startTestPlatform({}, { buildTimeoutSeconds: 4 });
  const timedCall = apiClient(timed.urls.api);
  const timedDb = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  // podman cannot list while another build's working container is being removed ("container not
  // known"): other test files build at the same time, so the listing is asked again.
  const containers = async (): Promise<string[]> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return execFileSync(engine.command, ['ps', '--all', '--external', '--format', '{{.ID}}'], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        })
          .split('\n')
          .filter(Boolean);
      } catch (err) {
        if (attempt === 20 || !/container not known/.test(String((err as { stderr?: string }).stderr)))
          throw err;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  };
  try {
    const algorithmId = await newAlgorithm(timedCall);
    const timedUsage = async () => {
      const { Item } = await timedDb.send(
        new GetCommand({ TableName: localTableName('usage'), Key: { userId: alice } }),
      );
      return { uploadBytes: Item?.uploadBytes ?? 0, activeBuilds: Item?.activeBuilds ?? 0 };
    };
    const before = await timedUsage();
    const definitions = timed.batch.jobDefinitions.length;
    const containersBefore = new Set(isPodman(engine) ? await containers() : []);
    const build = await push(
      algorithmId,
      [dockerfile('RUN ["node", "-e", "setTimeout(() => {}, 120000)"]', 'USER node'), program],
      timedCall,
    );
    expect(build.status).toBe('Failed');
    expect(build.statusDetail).toMatch(/^the build ran past builds\.timeoutMinutes/);
    const algorithm = await timedCall('GET', '/v1/algorithms/{algorithmId}', {
      token: 'dev-alice',
      params: { algorithmId },
    });
    expect(algorithm.body.activeVersion).toBeUndefined();
    expect(timed.batch.jobDefinitions).toHaveLength(definitions);
    expect(await settledValue(async () => tagged(`build-${build.id}`), false)).toBe(false);
    expect(tagged(`build-${build.id}-author`)).toBe(false);
    if (isPodman(engine)) {
      // Nor the working container of the step it was stopped in.
      const left = async () => (await containers()).filter((id) => !containersBefore.has(id));
      expect(await settledValue(left, [])).toEqual([]);
    }
    expect(await settledValue(timedUsage, before)).toEqual(before);
  } finally {
    timedDb.destroy();
    await timed.stop();
  }
}, 120_000);

test('a build under way when local mode stops runs again at its next start, and becomes the version', async () => {
  const dataDir = fs.mkdtempSync(path.join(platform.dataDir, 'restarted-'));
  const first = await startTestPlatform({}, { dataDir });
  const firstCall = apiClient(first.urls.api);
  let build: { id: string };
  let algorithmId: string;
  try {
    algorithmId = await newAlgorithm(firstCall);
    const context = gzipSync(tarArchive(GOOD));
    const pushed = await firstCall('POST', '/v1/algorithms/{algorithmId}/builds', {
      token: 'dev-alice',
      params: { algorithmId },
      body: { filename: 'context.tar.gz', size: context.length },
    });
    build = pushed.body.build;
    const { upload } = pushed.body;
    const signed = await firstCall('POST', '/v1/uploads/{uploadId}/parts', {
      token: 'dev-alice',
      params: { uploadId: upload.id },
      body: { partNumbers: [1] },
    });
    const put = await fetch(signed.body.parts[0].url, { method: 'PUT', body: context });
    await firstCall('POST', '/v1/uploads/{uploadId}/complete', {
      token: 'dev-alice',
      params: { uploadId: upload.id },
      body: { parts: [{ partNumber: 1, etag: put.headers.get('etag') }] },
    });
    for (;;) {
      const read = await firstCall('GET', '/v1/algorithms/{algorithmId}/builds/{buildId}', {
        token: 'dev-alice',
        params: { algorithmId, buildId: build.id },
      });
      if (read.body.status === 'Building') break;
      expect(read.body.status).toBe('Queued');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await first.stop();
  }
  const second = await startTestPlatform({}, { dataDir });
  try {
    const secondCall = apiClient(second.urls.api);
    let read;
    for (;;) {
      read = await secondCall('GET', '/v1/algorithms/{algorithmId}/builds/{buildId}', {
        token: 'dev-alice',
        params: { algorithmId, buildId: build.id },
      });
      if (['Succeeded', 'Failed', 'Cancelled'].includes(read.body.status)) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(read.body).toMatchObject({ status: 'Succeeded' });
    // The log is the run that finished: it ends with the builder's result.
    expect(read.body.logTail.at(-1)).toMatch(/^BUILD_RESULT /);
    made.push(`${REPOSITORY}:version-${read.body.versionId}`);
  } finally {
    await second.stop();
  }
}, 180_000);
