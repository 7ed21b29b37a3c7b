import * as fs from 'node:fs';
import * as path from 'node:path';
import { HandlerDeployment } from '../../lambda/contracts/handler-deployment';
import { API_OPERATIONS, BACKGROUND_FUNCTIONS } from '../../lambda/deployments';

const ROOT = path.join(__dirname, '..', '..');
const LISTED: readonly HandlerDeployment[] = [...API_OPERATIONS, ...BACKGROUND_FUNCTIONS];

/** The folders two levels down a top-level folder: `lambda/uploads/create-upload`. */
function columnFolders(top: string): string[] {
  return fs
    .readdirSync(path.join(ROOT, top), { withFileTypes: true })
    .filter((capability) => capability.isDirectory())
    .flatMap((capability) =>
      fs
        .readdirSync(path.join(ROOT, top, capability.name), { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => `${capability.name}/${entry.name}`),
    );
}

const handlerFolders = columnFolders('lambda').filter((folder) =>
  fs.existsSync(path.join(ROOT, 'lambda', folder, 'index.ts')),
);

describe('handlers and their deployments', () => {
  test('there are handlers to check', () => {
    expect(handlerFolders.length).toBeGreaterThan(20);
  });

  test.each(handlerFolders)('%s holds, beside its entry, the deployment that names it', (folder) => {
    const descriptors = ['operation.ts', 'function.ts'].filter((file) =>
      fs.existsSync(path.join(ROOT, 'lambda', folder, file)),
    );
    expect(descriptors).toHaveLength(1);
    const module = require(path.join(ROOT, 'lambda', folder, descriptors[0])) as Record<string, unknown>;
    const deployments = Object.values(module).filter(
      (value): value is HandlerDeployment =>
        typeof value === 'object' && value !== null && 'handler' in value && 'permissions' in value,
    );
    expect(deployments.map((d) => d.handler)).toEqual([folder]);
    expect(LISTED.filter((d) => d === deployments[0])).toHaveLength(1);
  });

  test('every listed deployment names a folder with a handler, and no folder twice', () => {
    const named = LISTED.map((d) => d.handler);
    expect(new Set(named).size).toBe(named.length);
    expect(named.filter((folder) => !handlerFolders.includes(folder))).toEqual([]);
  });

  test('API operations are listed with operations, other functions with triggers', () => {
    for (const operation of API_OPERATIONS) {
      expect([
        operation.handler,
        fs.existsSync(path.join(ROOT, 'lambda', operation.handler, 'operation.ts')),
      ]).toEqual([operation.handler, true]);
    }
    for (const fn of BACKGROUND_FUNCTIONS) {
      expect([fn.handler, fs.existsSync(path.join(ROOT, 'lambda', fn.handler, 'function.ts'))]).toEqual([
        fn.handler,
        true,
      ]);
    }
  });
});

describe('containers and what deploys them', () => {
  const containerFolders = columnFolders('containers');

  test.each(containerFolders)('%s holds the code that builds and deploys it', (folder) => {
    expect(fs.existsSync(path.join(ROOT, 'containers', folder, 'deploy.ts'))).toBe(true);
  });

  test('a Dockerfile sits only in a container folder', () => {
    const dockerfiles = containerFolders.filter((folder) =>
      fs.existsSync(path.join(ROOT, 'containers', folder, 'Dockerfile')),
    );
    expect(dockerfiles.length).toBeGreaterThan(0);
    const stray = fs
      .readdirSync(path.join(ROOT, 'containers'), { recursive: true, encoding: 'utf8' })
      .filter((file) => path.basename(file) === 'Dockerfile')
      .map((file) => path.dirname(file))
      .filter((folder) => !containerFolders.includes(folder));
    expect(stray).toEqual([]);
  });
});
