import { spawn } from 'node:child_process';
import { ContainerEngine, imageConfig, isPodman } from '../../jobs/runner/image-engine';
import { BuildFailure, BuildOutput } from './build-failure';
import { stopEngineProcess } from './engine-stop';

/**
 * The `build` arguments of every image the builder makes, on top of the engine's `runArgs`:
 * linux/amd64, as AWS Batch runs it, and nothing shared between authors. podman keeps each step
 * as an image in the machine's storage and reuses it for any later build with the same step; with
 * `--layers=false` it neither reads nor leaves one. docker is told `--no-cache`, which CodeBuild's
 * clean machine does not need but a cache kept between builds would; `--provenance=false` keeps
 * the pushed image one manifest, not an index with an attestation. Where base images cannot be
 * pulled, podman gets `--pull=never`; docker's build has no such policy and pulls only what it
 * lacks.
 */
export function engineBuildArgs(engine: ContainerEngine, options: { readonly pullNever: boolean }): string[] {
  const common = ['--platform', 'linux/amd64'];
  if (isPodman(engine)) return [...common, '--layers=false', ...(options.pullNever ? ['--pull=never'] : [])];
  return [...common, '--no-cache', '--provenance=false'];
}

/**
 * Builds the author's Dockerfile into `tag`, every line of the engine's output handed to `log` as
 * it comes; a failed build throws `BuildFailure` naming the failing step, its exit code and its
 * last lines. `signal` stops the engine.
 */
export async function buildAuthorImage(
  engine: ContainerEngine,
  build: {
    readonly context: string;
    readonly dockerfile: string;
    readonly tag: string;
    readonly buildArgs: readonly string[];
  },
  log: (line: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const output = new BuildOutput();
  const args = [
    'build',
    ...engine.runArgs,
    ...build.buildArgs,
    // No layer cache: one author's build never reuses a step another author's build ran.
    '--no-cache',
    // BuildKit's steps as lines, which `BuildOutput` reads, on a terminal too.
    ...(isPodman(engine) ? [] : ['--progress=plain']),
    '--file',
    `${build.context}/${build.dockerfile}`,
    '--tag',
    build.tag,
    build.context,
  ];
  const code = await streamed(
    engine.command,
    args,
    (line) => {
      log(line);
      output.line(line);
    },
    signal,
  );
  if (signal?.aborted) throw new BuildFailure('the build was stopped');
  if (code !== 0) {
    const base = await baseOfAnotherPlatform(engine, output.failedInstruction());
    throw new BuildFailure(
      base
        ? `the Dockerfile's base image ${base.image} is built for ${base.platform}; algorithms run on linux/amd64`
        : output.reason(code),
    );
  }
}

/**
 * The base image of a failed FROM step, when the engine holds it for a platform other than
 * linux/amd64: an engine told `--platform linux/amd64` reports such an image as unknown or as
 * having no matching manifest, which would leave the author looking for a missing image.
 */
async function baseOfAnotherPlatform(
  engine: ContainerEngine,
  instruction: string | undefined,
): Promise<{ image: string; platform: string } | undefined> {
  const image = instruction?.match(/^FROM\s+(?:--platform=\S+\s+)?(\S+)/i)?.[1];
  if (!image) return undefined;
  try {
    const { os, architecture } = await imageConfig(engine, image);
    const platform = `${os}/${architecture}`;
    return platform === 'linux/amd64' ? undefined : { image, platform };
  } catch {
    // Not held by the engine (a stage's name, a variable, an image it could not pull).
    return undefined;
  }
}

/** Runs `command`, each line of its stdout and stderr to `line`; resolves with its exit code. */
export function streamed(
  command: string,
  args: readonly string[],
  line: (text: string) => void,
  signal?: AbortSignal,
): Promise<number | null> {
  return new Promise((resolve, fail) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      // BuildKit where docker would otherwise use its legacy builder.
      env: { ...process.env, DOCKER_BUILDKIT: '1' },
    });
    const stop = () => stopEngineProcess(child, /podman/.test(command));
    signal?.addEventListener('abort', stop, { once: true });
    for (const stream of [child.stdout, child.stderr]) {
      let pending = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const lines = (pending + chunk).split(/\r?\n|\r/);
        pending = lines.pop()!;
        lines.forEach(line);
      });
      stream.on('end', () => pending && line(pending));
    }
    child.on('error', fail);
    child.on('close', (code) => {
      signal?.removeEventListener('abort', stop);
      resolve(code);
    });
  });
}
