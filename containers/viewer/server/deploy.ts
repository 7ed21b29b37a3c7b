// Builds the viewer: its browser client bundled into one script that the server serves. The
// fleets that run the viewer on EC2 in each viewer region deploy what this builds.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

const CLIENT_ENTRY = path.join(__dirname, 'client', 'viewer-client.ts');
/** A bundle made ahead (`viewer-client.js` beside the entry), as a container image ships it. */
const PREBUILT = path.join(__dirname, 'client', 'dist', 'viewer-client.js');

let bundled: Promise<string> | undefined;

/**
 * The browser client as one script: the bundle made ahead if there is one, otherwise bundled
 * once per process with esbuild from the sources (offline: everything comes from node_modules).
 */
export function clientBundle(): Promise<string> {
  bundled ??= fs.existsSync(PREBUILT) ? fs.promises.readFile(PREBUILT, 'utf8') : bundleClient();
  return bundled;
}

export async function bundleClient(outfile?: string): Promise<string> {
  // Loaded only here: a viewer that ships its bundle needs no esbuild.
  const esbuild = createRequire(__filename)('esbuild') as typeof import('esbuild');
  const result = await esbuild.build({
    entryPoints: [CLIENT_ENTRY],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome120', 'firefox120'],
    minify: true,
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].text;
  if (outfile) {
    fs.mkdirSync(path.dirname(outfile), { recursive: true });
    fs.writeFileSync(outfile, code);
  }
  return code;
}
