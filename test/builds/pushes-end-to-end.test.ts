import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { buildExampleBaseImage } from '../../local/builds/example-base-image';
import { findContainerEngine } from '../../local/jobs/container-engine';
import { LocalPlatform } from '../../local/local-platform';
import { localTableName } from '../../local/local-settings';
import { TarEntry, tarArchive } from '../../packages/image-io/test/helpers/tar-archive';
import { apiClient } from '../helpers/api-client';
import { startTestPlatform } from '../helpers/local-platform-fixture';

// Pushes through the whole local pipeline (upload, the builder in podman or docker, the checks,
// registration): every bad push ends as its reason says and leaves nothing behind, and builds of
// two algorithms at once both finish.

const BASE = 'public.ecr.aws/docker/library/node:22-slim';
const REPOSITORY = 'localhost/local/algorithms';
const engine = findContainerEngine();
if (!engine) throw new Error('these tests build images: install podman or docker');

let platform: LocalPlatform;
let call: ReturnType<typeof apiClient>;
let db: DynamoDBDocumentClient;
let alice: string;

beforeAll(async () => {
  await buildExampleBaseImage(engine);
  platform = await startTestPlatform({}, { jobs: 'record' });
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

async function newAlgorithm(): Promise<string> {
  const created = await call('POST', '/v1/algorithms', {
    token: 'dev-alice',
    body: {
      title: 'Pushed',
      interfaces: [
        {
          inputs: [{ slug: 'threshold', kind: 'json', relativePath: 'threshold.json' }],
          outputs: [{ slug: 'results', kind: 'json', relativePath: 'results.json' }],
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
async function push(algorithmId: string, entries: readonly TarEntry[]) {
  const context = gzipSync(tarArchive(entries));
  const created = await call('POST', '/v1/algorithms/{algorithmId}/builds', {
    token: 'dev-alice',
    params: { algorithmId },
    body: { filename: 'context.tar.gz', size: context.length },
  });
  expect(created.status).toBe(201);
  const { build, upload } = created.body;
  const signed = await call('POST', '/v1/uploads/{uploadId}/parts', {
    token: 'dev-alice',
    params: { uploadId: upload.id },
    body: { partNumbers: [1] },
  });
  const put = await fetch(signed.body.parts[0].url, { method: 'PUT', body: context });
  const completed = await call('POST', '/v1/uploads/{uploadId}/complete', {
    token: 'dev-alice',
    params: { uploadId: upload.id },
    body: { parts: [{ partNumber: 1, etag: put.headers.get('etag') }] },
  });
  expect(completed.status).toBe(200);
  for (;;) {
    const read = await call('GET', '/v1/algorithms/{algorithmId}/builds/{buildId}', {
      token: 'dev-alice',
      params: { algorithmId, buildId: build.id },
    });
    if (['Succeeded', 'Failed', 'Cancelled'].includes(read.body.status)) return read.body;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const tagsOf = (tagPrefix: string) =>
  execFileSync(engine.command, ['images', REPOSITORY, '--format', '{{.Tag}}'], { encoding: 'utf8' })
    .split('\n')
    .filter((tag) => tag.startsWith(tagPrefix));

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
    what: 'a Dockerfile that fails to build',
    entries: [dockerfile('COPY missing.js /opt/missing.js', 'USER node')],
    reason: /step 2\/3.*missing\.js/,
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
      expect(tagsOf(`build-${build.id}`)).toEqual([]);
      // The context's bytes are back in the quota, and the build's slot is free.
      expect(await usage()).toEqual(before);
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

test('builds of two algorithms pushed at once both finish, each its own active version', async () => {
  const algorithms = [await newAlgorithm(), await newAlgorithm()];
  const builds = await Promise.all(algorithms.map((id) => push(id, GOOD)));
  expect(builds.map((b) => b.status)).toEqual(['Succeeded', 'Succeeded']);
  for (const [i, algorithmId] of algorithms.entries()) {
    const read = await call('GET', '/v1/algorithms/{algorithmId}', {
      token: 'dev-alice',
      params: { algorithmId },
    });
    expect(read.body.activeVersion).toMatchObject({ id: builds[i].versionId, image: builds[i].image });
    made.push(`${REPOSITORY}:version-${builds[i].versionId}`);
  }
  expect(new Set(builds.map((b) => b.versionId)).size).toBe(2);
  expect((await usage()).activeBuilds).toBe(0);
}, 180_000);

test("a new version retires the one before: its image moves from its version's tag to a retired one", async () => {
  const algorithmId = await newAlgorithm();
  const first = await push(algorithmId, GOOD);
  const second = await push(algorithmId, [...GOOD, { name: 'notes.txt', content: 'a second version' }]);
  expect([first.status, second.status]).toEqual(['Succeeded', 'Succeeded']);
  made.push(`${REPOSITORY}:retired-${first.versionId}`, `${REPOSITORY}:version-${second.versionId}`);
  expect(tagsOf(`version-${first.versionId}`)).toEqual([]);
  expect(tagsOf(`retired-${first.versionId}`)).toEqual([`retired-${first.versionId}`]);
  expect(tagsOf(`version-${second.versionId}`)).toEqual([`version-${second.versionId}`]);
}, 180_000);
