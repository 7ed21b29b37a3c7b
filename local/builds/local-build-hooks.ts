import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { badRequest } from '../../lambda/api/api-error';
import { useLocalBuildImages } from '../../lambda/builds/build-images';
import { useLocalBuildCheck } from '../../lambda/builds/local-build-check';
import { findContainerEngine } from '../jobs/container-engine';
import { NO_BUILD_ENGINE } from '../local-options';

const run = promisify(execFile);

/** `<repository>@sha256:...` or `<repository>:<tag>` -> `<repository>`. */
function repositoryOf(image: string): string {
  const at = image.indexOf('@');
  if (at >= 0) return image.slice(0, at);
  const colon = image.lastIndexOf(':');
  return colon > image.lastIndexOf('/') ? image.slice(0, colon) : image;
}

/**
 * Run in the sandbox of a build function, before its handler loads: local mode builds in this
 * machine's container engine, so a push is refused without one, and a build's image is tagged
 * and removed there, where ECR would hold it. The engine is looked up once: that starts a process.
 */
export function setUp(): void {
  let engine: ReturnType<typeof findContainerEngine> | null = null;
  const found = () => (engine === null ? (engine = findContainerEngine()) : engine);
  useLocalBuildCheck(async () => {
    if (!found()) throw badRequest(NO_BUILD_ENGINE);
  });
  useLocalBuildImages({
    async tag(image, tag) {
      const command = found()?.command;
      if (!command) throw new Error(NO_BUILD_ENGINE);
      await run(command, ['tag', image, `${repositoryOf(image)}:${tag}`]);
    },
    async remove(repository, tag) {
      const command = found()?.command;
      // Without an engine there is no image to remove.
      if (!command) return;
      await run(command, ['rmi', `${repository}:${tag}`]).catch((err: Error & { stderr?: string }) => {
        if (!/image not known|no such image|not found/i.test(`${err.stderr ?? ''} ${err.message}`)) throw err;
      });
    },
  });
}
