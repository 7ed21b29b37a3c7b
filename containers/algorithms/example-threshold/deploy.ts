import * as path from 'node:path';

/**
 * The example algorithm as local mode builds it from this machine's files (no base image can be
 * pulled here, see `buildNodeImage`): the script the Dockerfile copies, with the same non-root
 * user and entrypoint. Anywhere else an author builds the Dockerfile.
 */
export const EXAMPLE_ALGORITHM = {
  tag: 'localhost/example-threshold:latest',
  files: { '/opt/algorithm/threshold.js': path.join(__dirname, 'threshold.js') },
  user: '1000:1000',
  entrypoint: ['/usr/local/bin/node', '/opt/algorithm/threshold.js'],
} as const;
