import { Construct } from 'constructs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CODEC_WASM_FILES } from '@imaging-platform/image-io';
import { BundledEntrypointImage } from '../../../lib/core/bundled-entrypoint-image';

const ROOT = path.join(__dirname, '..', '..', '..');

/**
 * The converter container image: the entrypoint bundled with sharp left out, the DICOM codecs'
 * WebAssembly beside it, and a package.json naming the lock file's sharp, which the Dockerfile
 * installs with its prebuilt libvips.
 */
export class ImageConverterImage extends BundledEntrypointImage {
  constructor(scope: Construct, id: string) {
    super(scope, id, {
      sourceDir: __dirname,
      name: 'image-converter',
      // Native: installed in the image by the Dockerfile.
      external: ['sharp'],
      stage: (context, bundled) => {
        fs.writeFileSync(
          path.join(context, 'package.json'),
          `${JSON.stringify({ private: true, dependencies: { sharp: lockedVersion('sharp') } }, null, 2)}\n`,
        );
        // The DICOM codecs load their WebAssembly from the bundle's folder, as in the function.
        if (!bundled) return;
        for (const file of CODEC_WASM_FILES) {
          const source = require.resolve(file);
          fs.copyFileSync(source, path.join(context, path.basename(source)));
        }
      },
    });
  }
}

/** The version of a package that the lock file pins, so the image runs what the tests ran. */
function lockedVersion(name: string): string {
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string }>;
  };
  const version = lock.packages[`node_modules/${name}`]?.version;
  if (!version) throw new Error(`package-lock.json pins no version of ${name}`);
  return version;
}
