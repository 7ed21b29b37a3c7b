import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A container engine's command (podman or docker), as images are built and run with it. */
export interface ContainerEngine {
  readonly command: string;
  /** Arguments every `run` and `build` needs on this machine (runtime, ulimits). */
  readonly runArgs: readonly string[];
}

/** Whether the engine is podman, whose flags differ from docker's in places. */
export function isPodman(engine: ContainerEngine): boolean {
  return /podman/.test(engine.command);
}

/**
 * The engine `command` names: podman runs with runc where it is installed, and with ulimits low
 * enough for small machines (RUN steps of a build included, which fail without them there).
 */
export function containerEngine(command: string): ContainerEngine {
  const runc = /podman/.test(command) && spawnSync('runc', ['--version']).status === 0;
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

/**
 * An image kept in the engine, by digest (`<repository>@sha256:...`): podman's manifest digest;
 * docker's image id, the only digest it gives an image it has not pushed.
 */
export async function localImageDigest(engine: ContainerEngine, tag: string): Promise<string> {
  const field = isPodman(engine) ? '{{.Digest}}' : '{{.Id}}';
  const { stdout } = await run(engine.command, ['image', 'inspect', '--format', field, tag]);
  return `${imageRepository(tag)}@${stdout.trim()}`;
}

/** `registry/name:tag` -> `registry/name`. */
export function imageRepository(tag: string): string {
  return tag.replace(/:[^/:]+$/, '');
}
