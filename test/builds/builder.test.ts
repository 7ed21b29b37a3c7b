import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  BUILD_IMAGE_VARIABLE,
  BUILD_LIMITS,
  BUILD_PIPELINE,
  BUILD_SOURCE_ENTRY,
  BUILDER_ENVIRONMENT,
  BuildResult,
} from '../../lambda/contracts/builds';
import { builderBuildspec, stageBuilder } from '../../containers/builds/builder/deploy';
import { BuilderOptions, runBuilder } from '../../containers/builds/builder/run-builder';
import { isPodman } from '../../containers/jobs/runner/image-engine';
import { builderProcess } from '../../local/builds/builder-process';
import { ContainerEngine, findContainerEngine } from '../../local/jobs/container-engine';
import { buildNodeImage } from '../../local/jobs/node-image-builder';
import { NO_CONTAINER_ENGINE } from '../../local/local-options';
import { buildZip } from '../../packages/image-io/test/helpers/zip-builder';

// The builder with podman, once staged and started by its buildspec as CodeBuild runs it, and
// in-process as local mode may run it. Base images come from this machine's files, as nothing can
// be pulled here.
const BASE = 'localhost/builder-test-base:latest';
const ARM64_BASE = 'localhost/builder-test-arm64-base:latest';
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
    // `toor`: root under another name, as some images define it.
    'root:x:0:0::/root:/bin/sh\ntoor:x:0:0::/root:/bin/sh\nalgo:x:1234:1234::/home/algo:/bin/sh\n',
  );
  await buildNodeImage(engine, {
    tag: BASE,
    files: { '/etc/passwd': path.join(work, 'passwd') },
    user: '',
    entrypoint: ['/usr/local/bin/node'],
  });
}, 60_000);

afterAll(() => {
  spawnSync(engine.command, ['rmi', `${REPOSITORY}:build-good`, BASE, ARM64_BASE]);
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

/**
 * The tags of the test repository that the engine holds. podman fails a listing when another test
 * removes some image at that moment ("image not known"): the listing is asked for again.
 */
function tags(attempt = 1): string[] {
  try {
    const listed = execFileSync(
      engine.command,
      ['images', '--format', '{{.Repository}}:{{.Tag}}', REPOSITORY],
      { encoding: 'utf8', stdio: 'pipe' },
    );
    return listed.split('\n').filter(Boolean).sort();
  } catch (err) {
    if (attempt < 5 && /image not known/.test(String((err as { stderr?: string }).stderr)))
      return tags(attempt + 1);
    throw err;
  }
}

const inspect = (image: string) =>
  JSON.parse(
    execFileSync(engine.command, ['image', 'inspect', '--format', '{{json .Config}}', image], {
      encoding: 'utf8',
    }),
  ) as { User: string; Env: string[] };

describe('the builder', () => {
  test("as CodeBuild runs it, staged and started by its buildspec, it builds the author's Dockerfile into a runnable image", () => {
    const staged = path.join(work, 'staged');
    stageBuilder(staged);
    const source = path.join(work, 'source');
    fs.mkdirSync(source);
    fs.copyFileSync(
      context('good', [
        `FROM ${BASE}`,
        'COPY main.js /opt/algorithm/main.js',
        'RUN ["/usr/local/bin/node", "-e", "require(\'fs\').writeFileSync(\'/opt/algorithm/built\', \'yes\')"]',
        'USER algo',
        'ENTRYPOINT ["/usr/local/bin/node", "/opt/algorithm/main.js"]',
      ]),
      path.join(source, BUILD_SOURCE_ENTRY.zip),
    );
    const buildspec = builderBuildspec({
      buildContextBytes: 1024 * 1024,
      buildContextEntries: LIMITS.entries,
      buildContextExtractedBytes: LIMITS.extractedBytes,
      buildsPerUser: 1,
      buildTimeoutMinutes: 10,
    }) as { env: { variables: Record<string, string> }; phases: { build: { commands: string[] } } };
    // The build phase as CodeBuild runs it, one shell stopping at the first failing command; this
    // machine's podman keeps the image where CodeBuild's docker pushes it.
    const script = [...buildspec.phases.build.commands, `echo "IMAGE=$${BUILD_IMAGE_VARIABLE}"`].join('\n');
    const run = spawnSync('bash', ['-e', '-c', script], {
      cwd: source,
      encoding: 'utf8',
      env: {
        ...process.env,
        ...buildspec.env.variables,
        BUILDER_HOME: staged,
        [BUILDER_ENVIRONMENT.engine]: engine.command,
        [BUILDER_ENVIRONMENT.pullNever]: 'true',
        [BUILDER_ENVIRONMENT.push]: 'false',
        [BUILDER_ENVIRONMENT.repository]: REPOSITORY,
        [BUILD_PIPELINE.variables.buildId]: 'good',
        [BUILD_PIPELINE.variables.dockerfile]: '',
      },
    });
    expect({ status: run.status, stderr: run.stderr }).toMatchObject({ status: 0 });
    const lines = run.stdout.trim().split('\n');
    const reported = lines.find((line) => line.startsWith('BUILD_RESULT '))!;
    const result = JSON.parse(reported.slice('BUILD_RESULT '.length)) as BuildResult;
    expect(result).toEqual({
      image: expect.stringMatching(new RegExp(`^${REPOSITORY}@sha256:[0-9a-f]{64}$`)),
      digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      sizeBytes: expect.any(Number),
      phaseSeconds: {
        extract: expect.any(Number),
        build: expect.any(Number),
        'runner-layer': expect.any(Number),
      },
    });
    expect(result.image.endsWith(result.digest)).toBe(true);
    expect(result.sizeBytes).toBeGreaterThan(10_000_000);
    expect(lines.filter((line) => line.startsWith('BUILD_'))).toEqual([
      'BUILD_PHASE extract',
      'BUILD_PHASE build',
      'BUILD_PHASE runner-layer',
      reported,
    ]);
    expect(lines.at(-1)).toBe(`IMAGE=${result.image}`);
    // The engine's own output, streamed.
    expect(lines).toContain(
      'STEP 3/5: RUN ["/usr/local/bin/node", "-e", "require(\'fs\').writeFileSync(\'/opt/algorithm/built\', \'yes\')"]',
    );
    // What registration reads: the author's USER by number, recorded by the layer; the runner
    // starts as root and runs the algorithm as that user.
    const config = inspect(result.image);
    expect(config.User).toBe('0:0');
    expect(config.Env).toEqual(
      expect.arrayContaining([
        'ALGORITHM_USER=1234:1234',
        'ALGORITHM_ENTRYPOINT=["/usr/local/bin/node","/opt/algorithm/main.js"]',
      ]),
    );
    // The author's image before layering is gone.
    expect(tags()).toEqual([`${REPOSITORY}:build-good`]);
  }, 60_000);

  test('a failing RUN step is named with its exit code and its last lines, and nothing is left', async () => {
    const lines: string[] = [];
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
      (line) => lines.push(line),
    );
    expect('failed' in outcome && outcome.failed).toMatch(
      /^the Dockerfile failed at step 3\/4 \(RUN \["\/usr\/local\/bin\/node", "-e", "for .*\]\): exit code 3; last lines: collecting 10 \| collecting 11 \| .* \| collecting 29$/,
    );
    expect(lines.at(-1)).toBe(`BUILD_FAILED ${'failed' in outcome && outcome.failed}`);
    expect(tags()).toEqual([`${REPOSITORY}:build-good`]);
  });

  test('stopped as CodeBuild and local mode stop it, with SIGTERM, it stops the engine, reports so and leaves nothing', async () => {
    const lines: string[] = [];
    const stop = new AbortController();
    // A base of this test's own, whose name podman's working containers take.
    const base = `localhost/builder-test-stopped-${process.pid}:latest`;
    execFileSync(engine.command, ['tag', BASE, base]);
    const archive = context('stopped', [
      `FROM ${base}`,
      'COPY main.js /opt/algorithm/main.js',
      'RUN ["/usr/local/bin/node", "-e", "console.log(\'waiting\'); setTimeout(() => {}, 30000)"]',
      'USER algo',
    ]);
    const code = await builderProcess()(
      {
        [BUILDER_ENVIRONMENT.contextArchive]: archive,
        [BUILDER_ENVIRONMENT.repository]: REPOSITORY,
        [BUILDER_ENVIRONMENT.tag]: 'build-stopped',
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
      (line) => {
        lines.push(line);
        // The RUN step under way.
        if (line === 'waiting') stop.abort();
      },
      stop.signal,
    );
    expect([code, lines.at(-1)]).toEqual([1, 'BUILD_FAILED the build was stopped']);
    expect(tags()).toEqual([`${REPOSITORY}:build-good`]);
    // No engine builds on, orphaned, to tag the author's image later.
    const processes = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    expect(processes).not.toContain(`${REPOSITORY}:build-stopped-author`);
    if (isPodman(engine)) {
      // Nor the working container of the step it was in, which would hold the base image.
      const containers = execFileSync(
        engine.command,
        ['ps', '--all', '--external', '--format', '{{.Names}}'],
        { encoding: 'utf8' },
      );
      expect(containers).not.toContain(`builder-test-stopped-${process.pid}-working-container`);
    }
    execFileSync(engine.command, ['rmi', base]);
  });

  test('a base image built for another platform than linux/amd64 is named with its platform, and nothing is left', async () => {
    // An arm64 image made of one file, as an author's machine may hold one.
    const base = path.join(work, 'arm64-base');
    fs.mkdirSync(base);
    fs.writeFileSync(path.join(base, 'Dockerfile'), 'FROM scratch\nCOPY passwd /etc/passwd\n');
    fs.copyFileSync(path.join(work, 'passwd'), path.join(base, 'passwd'));
    execFileSync(engine.command, ['build', '--platform', 'linux/arm64', '--tag', ARM64_BASE, base], {
      stdio: 'pipe',
    });
    const outcome = await runBuilder(
      options('build-arm64', context('arm64', [`FROM ${ARM64_BASE}`, 'COPY main.js /main.js', 'USER 1234'])),
      () => undefined,
    );
    expect(outcome).toEqual({
      failed: `the Dockerfile's base image ${ARM64_BASE} is built for linux/arm64; algorithms run on linux/amd64`,
    });
    expect(tags()).toEqual([`${REPOSITORY}:build-good`]);
  });

  test.each(['root', 'toor'])(
    'an image whose USER is %s, uid 0, is refused naming its USER, and nothing is left',
    async (user) => {
      const outcome = await runBuilder(
        options(
          `build-${user}`,
          context(`user-${user}`, [`FROM ${BASE}`, 'COPY main.js /opt/algorithm/main.js', `USER ${user}`]),
        ),
        () => undefined,
      );
      expect(outcome).toEqual({
        failed: `the image runs as root (USER "${user}" is uid 0); algorithms run as a non-root user that the image defines`,
      });
      expect(tags()).toEqual([`${REPOSITORY}:build-good`]);
    },
  );
});
