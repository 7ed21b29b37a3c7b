import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

interface Violation {
  readonly from: string;
  readonly to: string;
  readonly rule: { readonly name: string };
}

/** Runs the project's import rules (.dependency-cruiser.cjs) over `folders` of `cwd`. */
function cruise(cwd: string, folders: readonly string[]): Violation[] {
  const run = spawnSync(
    path.join(ROOT, 'node_modules', '.bin', 'depcruise'),
    [...folders, '--config', path.join(ROOT, '.dependency-cruiser.cjs'), '--output-type', 'json'],
    { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 ** 2 },
  );
  if (!run.stdout) throw new Error(`depcruise failed: ${run.stderr}`);
  return (JSON.parse(run.stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

describe('import rules', () => {
  let probe: string;
  let violations: Violation[];

  beforeAll(() => {
    // A small tree laid out as the project is, with one file per rule that breaks it.
    probe = fs.mkdtempSync(path.join(os.tmpdir(), 'boundaries-'));
    fs.copyFileSync(path.join(ROOT, 'tsconfig.json'), path.join(probe, 'tsconfig.json'));
    const files: Record<string, string> = {
      // Enough of the package for imports of it to resolve.
      'node_modules/aws-cdk-lib/package.json': '{ "name": "aws-cdk-lib", "main": "index.js" }\n',
      'node_modules/aws-cdk-lib/index.js': 'exports.App = class {};\nexports.Stack = class {};\n',
      'local/jobs/container-engine.ts': 'export const engine = 1;\n',
      'containers/jobs/runner/run-job.ts': 'export const runJob = 1;\n',
      'lambda/contracts/tables.ts': 'export const TABLES = {};\n',
      'lambda/uploads/create-upload/operation.ts': 'export const createUploadOperation = {};\n',
      'lambda/uploads/create-upload/index.ts':
        "import { createUploadOperation } from './operation';\nexport const handler = createUploadOperation;\n",
      'lambda/uploads/engine-probe/index.ts':
        "import { engine } from '../../../local/jobs/container-engine';\nexport const handler = engine;\n",
      'lambda/uploads/runner-probe/index.ts':
        "import { runJob } from '../../../containers/jobs/runner/run-job';\nexport const handler = runJob;\n",
      'lambda/core/cdk-probe.ts': "import { App } from 'aws-cdk-lib';\nexport const app = App;\n",
      'containers/jobs/runner/cdk-probe.ts':
        "import { Stack } from 'aws-cdk-lib';\nexport const stack = Stack;\n",
      'lib/handler-probe.ts':
        "import { handler } from '../lambda/uploads/create-upload/index';\nexport const h = handler;\n",
      'lib/deployment-probe.ts':
        "import { createUploadOperation } from '../lambda/uploads/create-upload/operation';\nimport { TABLES } from '../lambda/contracts/tables';\nexport const d = [createUploadOperation, TABLES];\n",
    };
    for (const [file, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(probe, file)), { recursive: true });
      fs.writeFileSync(path.join(probe, file), text);
    }
    violations = cruise(probe, ['lambda', 'lib', 'local', 'containers']);
  });

  afterAll(() => fs.rmSync(probe, { recursive: true, force: true }));

  const broken = (from: string) =>
    violations
      .filter((v) => v.from === from)
      .map((v) => `${v.rule.name}: ${v.to.replace(/^node_modules\/([^/]+)\/.*/, '$1')}`);

  test('a Lambda entry that imports local mode fails', () => {
    expect(broken('lambda/uploads/engine-probe/index.ts')).toEqual([
      'lambda-without-local-or-containers: local/jobs/container-engine.ts',
    ]);
  });

  test('a Lambda entry that imports container code fails', () => {
    expect(broken('lambda/uploads/runner-probe/index.ts')).toEqual([
      'lambda-without-local-or-containers: containers/jobs/runner/run-job.ts',
    ]);
  });

  test('runtime code that imports aws-cdk-lib fails, in a handler and in a container', () => {
    expect(broken('lambda/core/cdk-probe.ts')).toEqual(['runtime-without-cdk: aws-cdk-lib']);
    expect(broken('containers/jobs/runner/cdk-probe.ts')).toEqual(['runtime-without-cdk: aws-cdk-lib']);
  });

  test("deploy code may take a handler's deployment and the contracts, never its code", () => {
    expect(broken('lib/handler-probe.ts')).toEqual([
      'deploy-code-takes-descriptors-and-contracts: lambda/uploads/create-upload/index.ts',
    ]);
    expect(broken('lib/deployment-probe.ts')).toEqual([]);
  });

  test('the project keeps its own rules', () => {
    expect(cruise(ROOT, ['lambda', 'lib', 'local', 'containers', 'packages', 'bin'])).toEqual([]);
  });
});
