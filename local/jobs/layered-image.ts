import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { RUNNER_LAYER } from '../../lambda/contracts/job-runner';
import type { ContainerEngine } from './container-engine';

const run = promisify(execFile);

/** What the runner layer recorded of the author's image it was added to. */
export interface AuthorImage {
  /** `uid:gid`, resolved when the layer was built. */
  readonly user: string;
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  readonly workdir: string;
  readonly env: readonly string[];
}

/**
 * The author's image as the runner layer recorded it, for an image that a build layered (whose
 * own USER is root, for the runner); undefined for an image without the layer.
 */
export async function authorImageOf(
  engine: ContainerEngine,
  image: string,
): Promise<AuthorImage | undefined> {
  const { stdout } = await run(engine.command, [
    'image',
    'inspect',
    '--format',
    '{{json .Config.Env}}',
    image,
  ]);
  const env = Object.fromEntries(
    ((JSON.parse(stdout) as string[] | null) ?? []).map((entry) => {
      const equals = entry.indexOf('=');
      return [entry.slice(0, equals), entry.slice(equals + 1)];
    }),
  );
  if (!RUNNER_LAYER.variableNames.every((name) => name in env)) return undefined;
  const recorded = RUNNER_LAYER.parse(env);
  const list = (text: string) => JSON.parse(text) as string[];
  return {
    user: recorded.algorithmUser,
    entrypoint: list(recorded.algorithmEntrypoint),
    cmd: list(recorded.algorithmCmd),
    workdir: recorded.algorithmWorkdir,
    env: list(recorded.algorithmEnv),
  };
}
