import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ContainerEngine, imageRepository } from '../../jobs/runner/image-engine';
import { BuildFailure } from './build-failure';
import { streamed } from './engine-build';

const run = promisify(execFile);

/**
 * Pushes `tag` to its repository and returns the image by the digest the registry gave it
 * (`<repository>@sha256:...`), read from the image's RepoDigests, else from the push's output.
 */
export async function pushImage(
  engine: ContainerEngine,
  tag: string,
  log: (line: string) => void,
  signal?: AbortSignal,
): Promise<string> {
  const repository = imageRepository(tag);
  let pushed: string | undefined;
  const code = await streamed(
    engine.command,
    ['push', tag],
    (line) => {
      log(line);
      pushed = line.match(/digest: (sha256:[0-9a-f]{64})/)?.[1] ?? pushed;
    },
    signal,
  );
  if (code !== 0)
    throw new BuildFailure(`the image could not be pushed to ${repository} (exit code ${code})`);
  const { stdout } = await run(engine.command, [
    'image',
    'inspect',
    '--format',
    '{{json .RepoDigests}}',
    tag,
  ]);
  const known = ((JSON.parse(stdout) as string[] | null) ?? []).find((d) => d.startsWith(`${repository}@`));
  if (known) return known;
  if (pushed) return `${repository}@${pushed}`;
  throw new BuildFailure(`the push to ${repository} gave no digest`);
}

/** The image's size in bytes as the engine reports it: its layers uncompressed, as stored. */
export async function imageSize(engine: ContainerEngine, image: string): Promise<number> {
  const { stdout } = await run(engine.command, ['image', 'inspect', '--format', '{{.Size}}', image]);
  return Number(stdout.trim());
}

/** Removes tags (and images left without one); one already gone is no error. */
export async function removeTags(engine: ContainerEngine, tags: readonly string[]): Promise<void> {
  for (const tag of tags) await run(engine.command, ['rmi', tag]).catch(() => undefined);
}
