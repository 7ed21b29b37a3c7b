import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RUNNER_LAYER } from '../../../lambda/contracts/job-runner';

/** Where the runner lives in an algorithm image, apart from anything of the image's own. */
export const RUNNER_HOME = '/opt/platform-runner';

/** The runner's own Node, started through its own loader, so it runs on any base (musl, distroless). */
export const RUNNER_NODE = [
  `${RUNNER_HOME}/lib/ld-linux-x86-64.so.2`,
  '--library-path',
  `${RUNNER_HOME}/lib`,
  `${RUNNER_HOME}/node`,
];

/** What the layer records of the image it is added to: its own program, user and environment. */
export interface ImageConfig {
  readonly Entrypoint?: readonly string[] | null;
  readonly Cmd?: readonly string[] | null;
  readonly User?: string;
  readonly WorkingDir?: string;
  readonly Env?: readonly string[] | null;
}

/** The runner's bundles, by the source file each is made from (in this folder). */
export const RUNNER_BUNDLES = {
  'main.ts': 'runner.js',
  'launch-algorithm.ts': 'launch-algorithm.js',
  'strip-privileges.ts': 'strip-privileges.js',
} as const;

/**
 * Writes the runner layer's build context into `dir`: the runner's bundles (from `bundles`, a
 * folder holding `RUNNER_BUNDLES`), this machine's Node with the libraries it loads, and the
 * Containerfile that adds them to `baseImage`.
 */
export async function stageRunnerLayer(
  dir: string,
  baseImage: string,
  config: ImageConfig,
  bundles: string,
): Promise<void> {
  const home = path.join(dir, 'platform-runner');
  await fs.promises.mkdir(path.join(home, 'lib'), { recursive: true });
  for (const bundle of Object.values(RUNNER_BUNDLES)) {
    await fs.promises.copyFile(path.join(bundles, bundle), path.join(home, bundle));
  }
  await fs.promises.copyFile(process.execPath, path.join(home, 'node'));
  for (const library of sharedLibraries(process.execPath)) {
    await fs.promises.copyFile(library, path.join(home, 'lib', path.basename(library)));
  }
  const recorded = RUNNER_LAYER.variables({
    algorithmEntrypoint: JSON.stringify(config.Entrypoint ?? []),
    algorithmCmd: JSON.stringify(config.Cmd ?? []),
    algorithmUser: config.User ?? '',
    algorithmWorkdir: config.WorkingDir || '/',
    algorithmEnv: JSON.stringify(config.Env ?? []),
    runnerNode: JSON.stringify(RUNNER_NODE),
  });
  // Quoted for ENV, whose values would otherwise expand `$`.
  const quoted = (text: string) => JSON.stringify(text).replace(/\$/g, '\\$');
  const containerfile = [
    `FROM ${baseImage}`,
    `COPY platform-runner/ ${RUNNER_HOME}/`,
    'USER 0:0',
    `RUN ${JSON.stringify([...RUNNER_NODE, `${RUNNER_HOME}/strip-privileges.js`])}`,
    ...Object.entries(recorded).map(([name, value]) => `ENV ${name}=${quoted(value)}`),
    `ENTRYPOINT ${JSON.stringify([...RUNNER_NODE, `${RUNNER_HOME}/runner.js`])}`,
    'CMD []',
  ];
  await fs.promises.writeFile(path.join(dir, 'Containerfile'), `${containerfile.join('\n')}\n`);
}

/** The shared libraries a binary loads, with the dynamic loader, as `ldd` lists them. */
export function sharedLibraries(binary: string): string[] {
  return execFileSync('ldd', [binary], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.match(/(?:=>\s*)?(\/\S+)\s+\(0x/)?.[1])
    .filter((library): library is string => library !== undefined);
}
