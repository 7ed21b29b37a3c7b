import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { buildExampleBaseImage, EXAMPLE_BASE_IMAGE } from '../../local/builds/example-base-image';
import { findContainerEngine } from '../../local/jobs/container-engine';

const run = promisify(execFile);
const FOLDER = path.join(__dirname, '..', '..', 'containers', 'algorithms', 'example-threshold');
const TAG = 'localhost/test-example-threshold-build:latest';

const engine = findContainerEngine();
if (!engine) throw new Error('these tests build images: install podman or docker');

afterAll(async () => {
  await run(engine.command, ['rmi', TAG]).catch(() => undefined);
});

test("the example algorithm's folder builds without pulling, on the base made of this machine's files, and runs as node", async () => {
  const base = await buildExampleBaseImage(engine);
  expect(base).toMatch(/^public\.ecr\.aws\/docker\/library\/node@sha256:[0-9a-f]{64}$/);
  expect(EXAMPLE_BASE_IMAGE).toBe('public.ecr.aws/docker/library/node:22-slim');
  await run(engine.command, [
    'build',
    ...(engine.command.includes('podman') ? ['--pull=never'] : []),
    '--tag',
    TAG,
    FOLDER,
  ]);
  const { stdout } = await run(engine.command, [
    'run',
    ...engine.runArgs,
    '--rm',
    '--network',
    'none',
    '--entrypoint',
    'node',
    TAG,
    '-e',
    'const os = require("os"); console.log(JSON.stringify([process.getuid(), process.getgid(), process.env.HOME, os.userInfo().username, require("fs").statSync(os.tmpdir()).mode & 0o7777]))',
  ]);
  expect(JSON.parse(stdout)).toEqual([1000, 1000, '/home/node', 'node', 0o1777]);
}, 120_000);
