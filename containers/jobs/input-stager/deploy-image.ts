import { Construct } from 'constructs';
import { BundledEntrypointImage } from '../../../lib/core/bundled-entrypoint-image';

/** The input stager's image: its bundled entrypoint and the Dockerfile, nothing else. */
export class JobInputStagerImage extends BundledEntrypointImage {
  constructor(scope: Construct, id: string) {
    super(scope, id, { sourceDir: __dirname, name: 'job-input-stager' });
  }
}
