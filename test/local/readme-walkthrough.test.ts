import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LocalPlatform } from '../../local/local-platform';
import { startTestPlatform } from '../helpers/local-platform-fixture';

let platform: LocalPlatform;

beforeAll(async () => {
  platform = await startTestPlatform({}, { jobs: 'run' });
});

afterAll(() => platform.stop());

/** The shell block of the README's walk through the API, exactly as a reader copies it. */
function walkthrough(): string {
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  const block = readme.match(/<!-- walkthrough:start -->\s*```sh\n([\s\S]*?)```\s*<!-- walkthrough:end -->/);
  if (!block) throw new Error('README.md has no walkthrough block');
  return block[1];
}

describe('README walkthrough', () => {
  test('uploads a file, makes an image, registers an algorithm and submits a job against local mode', async () => {
    // Asynchronous: the platform answers from this very process. Run from the repository, as a reader does.
    const child = spawn('bash', ['-euo', 'pipefail', '-c', walkthrough()], {
      cwd: path.join(__dirname, '..', '..'),
      env: { ...process.env, API: `${platform.urls.api}/v1` },
    });
    const result = { stdout: '', stderr: '', status: null as number | null };
    child.stdout.on('data', (chunk: Buffer) => (result.stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (result.stderr += chunk.toString()));
    result.status = await new Promise((resolve) => child.on('close', resolve));
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual([
      'Completed',
      'Succeeded: Converted',
      'ObjectType = Image',
      'Succeeded',
      '{"threshold":2,"voxels":4,"foreground":2,"fraction":0.5}',
      'ObjectType = Image',
    ]);
  });
});
