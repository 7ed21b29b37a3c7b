import * as fs from 'node:fs';
import * as path from 'node:path';

const HANDLERS_DIR = path.join(__dirname, '..', '..', 'lambda');

/**
 * The folder name of an operation's handler: `createUpload` is deployed from
 * `lambda/<capability>/create-upload/`. Local mode follows the same rule, so both run the same file.
 */
export function handlerFolder(operationId: string): string {
  return operationId.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The entry of the handler in `lambda/<capability>/<folder>/index.ts`. */
export function handlerEntry(folder: string): string {
  const found = fs
    .readdirSync(HANDLERS_DIR)
    .map((capability) => path.join(HANDLERS_DIR, capability, folder, 'index.ts'))
    .filter((file) => fs.existsSync(file));
  if (found.length !== 1)
    throw new Error(`expected one handler folder named ${folder} under lambda/, found ${found.length}`);
  return found[0];
}
