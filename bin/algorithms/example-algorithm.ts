// Builds the example algorithm (containers/algorithms/example-threshold) as
// localhost/example-threshold, from this machine's files, for local mode, and prints the image by
// digest, as an algorithm names it: `npm run example-algorithm`.
import { EXAMPLE_ALGORITHM } from '../../containers/algorithms/example-threshold/deploy';
import { findContainerEngine } from '../../local/jobs/container-engine';
import { buildNodeImage } from '../../local/jobs/node-image-builder';

async function main(): Promise<void> {
  const engine = findContainerEngine();
  if (!engine) {
    console.error(
      'no container engine answers: install podman (Debian: apt-get install podman runc) or docker',
    );
    process.exit(1);
  }
  console.log(await buildNodeImage(engine, EXAMPLE_ALGORITHM));
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
