import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A local container engine (podman, or docker), the way local mode runs algorithm images: the
 * image's own entrypoint, command and user (by number), with no network, a read-only /input, a
 * writable root of its own (bounded by `watchWritableLayer`), no capabilities, and memory and
 * process limits.
 */
export interface ContainerEngine {
  readonly command: string;
  /** Arguments every `run` needs on this machine (runtime, ulimits). */
  readonly runArgs: readonly string[];
}

/**
 * The engine named by LOCAL_CONTAINER_ENGINE, else podman, else docker, if one answers; podman
 * runs with runc where it is installed, and with ulimits low enough for small machines.
 */
export function findContainerEngine(env: NodeJS.ProcessEnv = process.env): ContainerEngine | undefined {
  const candidates = env.LOCAL_CONTAINER_ENGINE ? [env.LOCAL_CONTAINER_ENGINE] : ['podman', 'docker'];
  for (const command of candidates) {
    const probe = spawnSync(command, ['version'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    if (probe.status !== 0) continue;
    const podman = /podman/.test(command);
    const runc = podman && spawnSync('runc', ['--version']).status === 0;
    return {
      command,
      runArgs: [
        ...(runc ? ['--runtime', 'runc'] : []),
        '--ulimit',
        'nofile=1024:1024',
        '--ulimit',
        'nproc=1000:1000',
      ],
    };
  }
  return undefined;
}

/** The image's USER (empty when none is set), operating system and architecture. */
export async function imageConfig(
  engine: ContainerEngine,
  image: string,
): Promise<{ user: string; os: string; architecture: string; labels: Record<string, string> }> {
  const { stdout } = await run(engine.command, [
    'image',
    'inspect',
    '--format',
    '[{{json .Config.User}},{{json .Os}},{{json .Architecture}},{{json .Config.Labels}}]',
    image,
  ]);
  const [user, os, architecture, labels] = JSON.parse(stdout) as [
    string,
    string,
    string,
    Record<string, string> | null,
  ];
  return { user, os, architecture, labels: labels ?? {} };
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
    container.image,
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
