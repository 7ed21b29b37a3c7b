import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BUILD_LIMITS, BUILDER_ENVIRONMENT } from '../../lambda/contracts/builds';
import { BuilderOptions, runBuilder } from '../../containers/builds/builder/run-builder';
import { ContainerEngine, findContainerEngine } from '../../local/jobs/container-engine';
import { buildNodeImage } from '../../local/jobs/node-image-builder';
import { NO_CONTAINER_ENGINE } from '../../local/local-options';
import { buildZip } from '../../packages/image-io/test/helpers/zip-builder';

// The builder with podman, in-process as local mode runs it and once as CodeBuild starts it: base
// images come from this machine's files, as nothing can be pulled here.
const BASE = 'localhost/builder-test-base:latest';
const REPOSITORY = 'localhost/builder-test-algorithms';
const LIMITS = { entries: 100, extractedBytes: 1024 * 1024 };
let engine: ContainerEngine;
let work: string;

beforeAll(async () => {
  const found = findContainerEngine();
  if (!found) throw new Error(NO_CONTAINER_ENGINE);
  engine = found;
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'builder-test-'));
  fs.writeFileSync(
    path.join(work, 'passwd'),
    'root:x:0:0::/root:/bin/sh\nalgo:x:1234:1234::/home/algo:/bin/sh\n',
  );
  await buildNodeImage(engine, {
    tag: BASE,
    files: { '/etc/passwd': path.join(work, 'passwd') },
    user: '',
    entrypoint: ['/usr/local/bin/node'],
  });
}, 60_000);

afterAll(() => {
  spawnSync(engine.command, ['rmi', `${REPOSITORY}:build-good`, BASE]);
  fs.rmSync(work, { recursive: true, force: true });
});

/** A zip of a folder holding `Dockerfile` and `main.js`, as `zip -r context.zip folder` makes it. */
function context(name: string, dockerfile: string[]): string {
  const archive = path.join(work, `${name}.zip`);
  fs.writeFileSync(
    archive,
    buildZip([
      { name: `${name}/`, mode: 0o040755 },
      { name: `${name}/Dockerfile`, content: Buffer.from(`${dockerfile.join('\n')}\n`) },
      { name: `${name}/main.js`, content: Buffer.from('console.log("segmenting");\n') },
    ]),
  );
  return archive;
}

const options = (tag: string, contextArchive: string): BuilderOptions => ({
  contextArchive,
  dockerfile: 'Dockerfile',
  repository: REPOSITORY,
  tag,
  engine,
  pullNever: true,
  push: false,
  limits: LIMITS,
});

/** The tags of the test repository that the engine holds. */
function tags(): string[] {
  const listed = execFileSync(
    engine.command,
    ['images', '--format', '{{.Repository}}:{{.Tag}}', REPOSITORY],
    {
      encoding: 'utf8',
    },
  );
  return listed.split('\n').filter(Boolean).sort();
}

const inspect = (image: string) =>
  JSON.parse(
    execFileSync(engine.command, ['image', 'inspect', '--format', '{{json .Config}}', image], {
      encoding: 'utf8',
    }),
  ) as { User: string; Env: string[] };

describe('the builder', () => {
  test("builds the author's Dockerfile into a runnable image with the runner layer, and leaves only it", async () => {
    const lines: string[] = [];
    const outcome = await runBuilder(
      options(
        'build-good',
        context('good', [
          `FROM ${BASE}`,
          'COPY main.js /opt/algorithm/main.js',
          'RUN ["/usr/local/bin/node", "-e", "require(\'fs\').writeFileSync(\'/opt/algorithm/built\', \'yes\')"]',
          'USER algo',
          'ENTRYPOINT ["/usr/local/bin/node", "/opt/algorithm/main.js"]',
        ]),
      ),
      (line) => lines.push(line),
    );
    expect(outcome).toEqual({
      result: {
        image: expect.stringMatching(new RegExp(`^${REPOSITORY}@sha256:[0-9a-f]{64}$`)),
        digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
        sizeBytes: expect.any(Number),
        phaseSeconds: {
          extract: expect.any(Number),
          build: expect.any(Number),
          'runner-layer': expect.any(Number),
        },
      },
    });
    if (!('result' in outcome)) return;
    expect(outcome.result.image.endsWith(outcome.result.digest)).toBe(true);
    expect(outcome.result.sizeBytes).toBeGreaterThan(10_000_000);
    expect(lines.filter((line) => line.startsWith('BUILD_'))).toEqual([
      'BUILD_PHASE extract',
      'BUILD_PHASE build',
      'BUILD_PHASE runner-layer',
      `BUILD_RESULT ${JSON.stringify(outcome.result)}`,
    ]);
    // The engine's own output, streamed.
    expect(lines).toContain(
      'STEP 3/5: RUN ["/usr/local/bin/node", "-e", "require(\'fs\').writeFileSync(\'/opt/algorithm/built\', \'yes\')"]',
    );
    // What registration reads: the author's USER by number, recorded by the layer; the runner
    // starts as root and runs the algorithm as that user.
    const config = inspect(outcome.result.image);
    expect(config.User).toBe('0:0');
    expect(config.Env).toEqual(
      expect.arrayContaining([
        'ALGORITHM_USER=1234:1234',
        'ALGORITHM_ENTRYPOINT=["/usr/local/bin/node","/opt/algorithm/main.js"]',
      ]),
    );
    expect(tags()).toEqual([`${REPOSITORY}:build-good`]);
  });

  test('a failing RUN step is named with its exit code and its last lines, and nothing is left', async () => {
    const outcome = await runBuilder(
      options(
        'build-fails',
        context('fails', [
          `FROM ${BASE}`,
          'COPY main.js /opt/algorithm/main.js',
          'RUN ["/usr/local/bin/node", "-e", "for (let i = 0; i < 30; i++) console.log(`collecting ${i}`); process.exit(3)"]',
          'USER algo',
        ]),
      ),
      () => undefined,
    );
    expect('failed' in outcome && outcome.failed).toMatch(
      /^the Dockerfile failed at step 3\/4 \(RUN \["\/usr\/local\/bin\/node", "-e", "for .*\]\): exit code 3; last lines: collecting 10 \| collecting 11 \| .* \| collecting 29$/,
    );
    expect(tags()).toEqual([`${REPOSITORY}:build-good`]);
  });

  test('an image that runs as root is refused naming its USER, and nothing is left', () => {
    // As CodeBuild runs it: a process of its own, its options from the environment, its report
    // on stdout and its exit code.
    const archive = context('root', [`FROM ${BASE}`, 'COPY main.js /opt/algorithm/main.js', 'USER root']);
    const run = spawnSync(
      path.join(__dirname, '../../node_modules/.bin/tsx'),
      ['containers/builds/builder/main.ts'],
      {
        cwd: path.join(__dirname, '../..'),
        encoding: 'utf8',
        env: {
          ...process.env,
          [BUILDER_ENVIRONMENT.contextArchive]: archive,
          [BUILDER_ENVIRONMENT.repository]: REPOSITORY,
          [BUILDER_ENVIRONMENT.tag]: 'build-root',
          [BUILDER_ENVIRONMENT.engine]: engine.command,
          [BUILDER_ENVIRONMENT.pullNever]: 'true',
          [BUILDER_ENVIRONMENT.push]: 'false',
          ...BUILD_LIMITS.variables({
            buildContextBytes: 1024 * 1024,
            buildContextEntries: LIMITS.entries,
            buildContextExtractedBytes: LIMITS.extractedBytes,
            buildsPerUser: 1,
            buildTimeoutMinutes: 10,
          }),
        },
      },
    );
    const lines = run.stdout.trim().split('\n');
    expect(lines.filter((line) => line.startsWith('BUILD_PHASE'))).toEqual([
      'BUILD_PHASE extract',
      'BUILD_PHASE build',
      'BUILD_PHASE runner-layer',
    ]);
    expect({ status: run.status, last: lines.at(-1) }).toEqual({
      status: 1,
      last: 'BUILD_FAILED the image runs as root (USER "root" is uid 0); algorithms run as a non-root user that the image defines',
    });
    expect(tags()).toEqual([`${REPOSITORY}:build-good`]);
  }, 60_000);
});
