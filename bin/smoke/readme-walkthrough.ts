import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

/** The shell block of the README's walk through the API, exactly as a reader copies it. */
export function walkthroughScript(): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const block = readme.match(/<!-- walkthrough:start -->\s*```sh\n([\s\S]*?)```\s*<!-- walkthrough:end -->/);
  if (!block) throw new Error('README.md has no walkthrough block');
  return block[1];
}

/** What the walkthrough prints, line by line: the comment that ends each line that prints. */
export function expectedOutput(script = walkthroughScript()): string[] {
  return script
    .split('\n')
    .map((line) => /^\s*[^#\s].*\S\s{2,}# (.+)$/.exec(line)?.[1])
    .filter((expected): expected is string => expected !== undefined);
}

/**
 * An expected line as a pattern: a `<...>` in it stands for any text without spaces (an id, an
 * address with its credential); the rest is literal.
 */
export function expectedPattern(expected: string): RegExp {
  const parts = expected.split(/<[^>]+>/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('\\S+')}$`);
}

/** Whether a printed line is the expected one. */
export function printedAsExpected(printed: string | undefined, expected: string): boolean {
  return printed !== undefined && expectedPattern(expected).test(printed);
}

export interface WalkthroughRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the walkthrough with bash from the repository, as a reader does; `env` sets `API`, and
 * may set `AUTH` (the Authorization header line), `WAIT`, and `EXAMPLE_BASE=pull` where the
 * build pipeline can pull the example's base image.
 */
export async function runWalkthrough(env: NodeJS.ProcessEnv): Promise<WalkthroughRun> {
  const child = spawn('bash', ['-euo', 'pipefail', '-c', walkthroughScript()], { cwd: ROOT, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { status, stdout, stderr };
}
