import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const PROJECT_DIR = path.join(__dirname, '..', '..');

/** The shell block of the README's walk through the API, exactly as a reader copies it. */
export function walkthrough(): string {
  const readme = fs.readFileSync(path.join(PROJECT_DIR, 'README.md'), 'utf8');
  const block = readme.match(/<!-- walkthrough:start -->\s*```sh\n([\s\S]*?)```\s*<!-- walkthrough:end -->/);
  if (!block) throw new Error('README.md has no walkthrough block');
  return block[1];
}

/** What the walkthrough prints when every step worked, as its comments say. */
export const WALKTHROUGH_OUTPUT = [
  'Completed',
  'Succeeded: Converted',
  'ObjectType = Image',
  'Succeeded',
  '{"threshold":2,"voxels":4,"foreground":2,"fraction":0.5}',
  'ObjectType = Image',
];

/**
 * Runs the walkthrough against the API at `apiUrl` (`.../v1`) from the repository, as a reader
 * does, without blocking: the platform may answer from this very process.
 */
export async function runWalkthrough(
  apiUrl: string,
): Promise<{ stdout: string; stderr: string; status: number | null }> {
  const child = spawn('bash', ['-euo', 'pipefail', '-c', walkthrough()], {
    cwd: PROJECT_DIR,
    env: { ...process.env, API: apiUrl },
  });
  const result = { stdout: '', stderr: '', status: null as number | null };
  child.stdout.on('data', (chunk: Buffer) => (result.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (result.stderr += chunk.toString()));
  result.status = await new Promise((resolve) => child.on('close', resolve));
  return result;
}
