// Builds the example algorithm (containers/example-threshold) as localhost/example-threshold,
// from this machine's files, for local mode, and prints the image by digest, as an algorithm
// names it: `npm run example-algorithm`.
import * as path from 'node:path';
import { findContainerEngine } from '../../containers/jobs/runner/container-engine';
import { buildNodeImage } from '../../local/node-image-builder';

export const EXAMPLE_ALGORITHM_IMAGE = 'localhost/example-threshold:latest';

async function main(): Promise<void> {
  const engine = findContainerEngine();
  if (!engine) {
    console.error(
      'no container engine answers: install podman (Debian: apt-get install podman runc) or docker',
    );
    process.exit(1);
  }
  const image = await buildNodeImage(engine, {
    tag: EXAMPLE_ALGORITHM_IMAGE,
    files: {
      '/opt/algorithm/threshold.js': path.join(
        __dirname,
        '..',
        '..',
        'containers',
        'algorithms',
        'example-threshold',
        'threshold.js',
      ),
    },
    user: '1000:1000',
    entrypoint: ['/usr/local/bin/node', '/opt/algorithm/threshold.js'],
  });
  console.log(image);
}

if (require.main === module) {
  main().catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
}
