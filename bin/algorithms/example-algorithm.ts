// Builds the example algorithm (containers/algorithms/example-threshold) as
// localhost/example-threshold, from this machine's files, for local mode, and prints the image by
// digest, as an algorithm names it: `npm run example-algorithm`. With `--base`, builds instead the
// base image its Dockerfile names (public.ecr.aws/docker/library/node:22-slim) from this machine's
// files, so that the folder builds with `--pull=never` and can be pushed as a build:
// `npm run example-algorithm -- --base`.
import { EXAMPLE_ALGORITHM } from '../../containers/algorithms/example-threshold/deploy';
import { findContainerEngine } from '../../local/jobs/container-engine';
import { buildNodeImage } from '../../local/jobs/node-image-builder';
import { buildExampleBaseImage } from '../../local/builds/example-base-image';

async function main(): Promise<void> {
  const engine = findContainerEngine();
  if (!engine) {
    console.error(
      'no container engine answers: install podman (Debian: apt-get install podman runc) or docker',
    );
    process.exit(1);
  }
  const args = process.argv.slice(2);
  if (args.some((arg) => arg !== '--base')) {
    console.error('usage: npm run example-algorithm [-- --base]');
    process.exit(2);
  }
  console.log(
    args.includes('--base')
      ? await buildExampleBaseImage(engine)
      : await buildNodeImage(engine, EXAMPLE_ALGORITHM),
  );
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
