import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { ContainerEngine, containerEngine } from '../../containers/jobs/runner/image-engine';

const run = promisify(execFile);

/**
 * A local container engine (podman, or docker), the way local mode runs algorithm images: the
 * image's own entrypoint, command and user (by number), with no network, a read-only /input, a
 * writable root of its own (bounded by `watchWritableLayer`), no capabilities, and memory and
 * process limits. What it is and how images are read with it is shared with the builder.
 */
export { type ContainerEngine, imageConfig } from '../../containers/jobs/runner/image-engine';

/** The engine named by LOCAL_CONTAINER_ENGINE, else podman, else docker, if one answers. */
export function findContainerEngine(env: NodeJS.ProcessEnv = process.env): ContainerEngine | undefined {
  const candidates = env.LOCAL_CONTAINER_ENGINE ? [env.LOCAL_CONTAINER_ENGINE] : ['podman', 'docker'];
  for (const command of candidates) {
    const probe = spawnSync(command, ['version'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    if (probe.status === 0) return containerEngine(command);
  }
  return undefined;
}

export interface AlgorithmContainer {
  readonly name: string;
  readonly image: string;
  readonly inputDir: string;
  readonly outputDir: string;
  /** Mounted read-only at /opt/ml/model when the job has a model: the model, extracted. */
  readonly modelDir?: string;
  readonly memoryGb: number;
  /** The image's USER as numbers (`uid:gid`), resolved from its own files. */
  readonly user: string;
  /**
   * The author's program, for an image a build layered the runner onto (whose own ENTRYPOINT is
   * the runner's): run in its place, as the runner launches it on Batch.
   * @default - the image's own ENTRYPOINT, CMD, working directory and environment
   */
  readonly author?: {
    readonly entrypoint: readonly string[];
    readonly cmd: readonly string[];
    readonly workdir: string;
    readonly env: readonly string[];
  };
}

/** How many processes an algorithm may have at once: enough for data loaders, not for a fork bomb. */
export const PIDS_LIMIT = 1024;

/** `run` arguments for an algorithm: nothing of the platform reaches it but /input, /output and /opt/ml/model. */
export function algorithmRunArgs(engine: ContainerEngine, container: AlgorithmContainer): string[] {
  const memory = `${Math.round(container.memoryGb * 1024)}m`;
  return [
    'run',
    ...engine.runArgs,
    '--name',
    container.name,
    '--pull',
    'never',
    '--network',
    'none',
    '--cap-drop',
    'all',
    '--security-opt',
    'no-new-privileges',
    '--user',
    container.user,
    '--memory',
    memory,
    '--memory-swap',
    memory,
    '--pids-limit',
    String(PIDS_LIMIT),
    '--shm-size',
    `${Math.round((container.memoryGb * 1024) / 2)}m`,
    '--volume',
    `${container.inputDir}:/input:ro`,
    '--volume',
    `${container.outputDir}:/output:rw`,
    ...(container.modelDir ? ['--volume', `${container.modelDir}:/opt/ml/model:ro`] : []),
    ...authorArgs(container.author, container.image),
  ];
}

/** `--entrypoint`, `--workdir` and `--env` in place of the runner layer's, then the image and its arguments. */
function authorArgs(author: AlgorithmContainer['author'], image: string): string[] {
  if (!author) return [image];
  const program = [...author.entrypoint, ...author.cmd];
  if (program.length === 0) throw new Error(`${image} records no ENTRYPOINT or CMD of its author`);
  return [
    '--entrypoint',
    program[0],
    '--workdir',
    author.workdir,
    ...author.env.flatMap((entry) => ['--env', entry]),
    image,
    ...program.slice(1),
  ];
}

/** Whether the engine killed the container for exceeding its memory, and then removes it. */
export async function removeContainer(
  engine: ContainerEngine,
  name: string,
): Promise<{ oomKilled: boolean }> {
  try {
    const { stdout } = await run(engine.command, ['inspect', '--format', '{{.State.OOMKilled}}', name]);
    return { oomKilled: stdout.trim() === 'true' };
  } finally {
    await run(engine.command, ['rm', '--force', name]).catch(() => undefined);
  }
}
