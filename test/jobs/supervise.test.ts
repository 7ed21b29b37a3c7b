import { spawn } from 'node:child_process';
import { supervise } from '../../containers/jobs/runner/supervise';

// The reason a failed algorithm shows is the last line it wrote on stderr that says what went wrong.
async function lastStderrLine(script: string): Promise<string | undefined> {
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  const run = await supervise(child, {
    timeLimitSeconds: 60,
    graceSeconds: 1,
    terminate: () => child.kill('SIGTERM'),
    kill: () => child.kill('SIGKILL'),
    onLine: () => undefined,
  });
  expect(run.exitCode).not.toBe(0);
  return run.lastStderrLine;
}

test("an uncaught exception shows its error, not Node's version line or a stack frame", async () => {
  expect(await lastStderrLine("throw new Error('model weights not found')")).toBe(
    'Error: model weights not found',
  );
});

test('a last line that is the error itself is kept as it is', async () => {
  expect(
    await lastStderrLine("console.error('ValueError: expected 3 channels, got 1'); process.exit(1)"),
  ).toBe('ValueError: expected 3 channels, got 1');
});
