import { ChildProcess } from 'node:child_process';
import * as readline from 'node:readline';

export interface LogLine {
  readonly source: 'stdout' | 'stderr';
  readonly message: string;
  readonly timestamp: number;
}

/** Longest line kept: a line longer than this is cut, so one write cannot fill the log. */
const MAX_LINE = 16 * 1024;

/**
 * Lines a runtime adds after the error it reports, which say nothing of what went wrong: a stack
 * frame (Node, Java: `    at ...`) and Node's version line after an uncaught exception
 * (`Node.js v20.20.2`). The reason shown is the last line before them.
 */
const RUNTIME_TRAILER = /^(\s+at\s|Node\.js v\d+\.\d+\.\d+\s*$)/;

export interface Supervised {
  readonly exitCode: number;
  readonly timedOut: boolean;
  readonly seconds: number;
  readonly lastStderrLine?: string;
}

/**
 * Follows the algorithm's process to its end: every line of its stdout and stderr goes to
 * `onLine`, and at the time limit it is asked to stop (`terminate`, SIGTERM), then made to
 * (`kill`, SIGKILL) after the grace period. A process ended by a signal reports 128 + the
 * signal's number, as a shell would.
 */
export function supervise(
  child: ChildProcess,
  options: {
    readonly timeLimitSeconds: number;
    readonly graceSeconds: number;
    readonly terminate: () => void;
    readonly kill: () => void;
    readonly onLine: (line: LogLine) => void;
  },
): Promise<Supervised> {
  const started = performance.now();
  let lastStderrLine: string | undefined;
  let timedOut = false;
  const follow = (stream: NodeJS.ReadableStream | null, source: LogLine['source']) => {
    if (!stream) return Promise.resolve();
    const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
    lines.on('line', (text) => {
      const message = text.length > MAX_LINE ? `${text.slice(0, MAX_LINE)}…` : text;
      if (source === 'stderr' && message.trim() !== '' && !RUNTIME_TRAILER.test(message)) {
        lastStderrLine = message;
      }
      options.onLine({ source, message, timestamp: Date.now() });
    });
    return new Promise<void>((resolve) => lines.on('close', resolve));
  };
  const streams = Promise.all([follow(child.stdout, 'stdout'), follow(child.stderr, 'stderr')]);
  let killTimer: NodeJS.Timeout | undefined;
  const limitTimer = setTimeout(() => {
    timedOut = true;
    options.terminate();
    killTimer = setTimeout(options.kill, options.graceSeconds * 1000);
  }, options.timeLimitSeconds * 1000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(limitTimer);
      clearTimeout(killTimer);
      void streams.then(() =>
        resolve({
          exitCode: code ?? 128 + signalNumber(signal),
          timedOut,
          seconds: (performance.now() - started) / 1000,
          lastStderrLine,
        }),
      );
    });
  });
}

function signalNumber(signal: NodeJS.Signals | null): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = {
    SIGKILL: 9,
    SIGTERM: 15,
    SIGINT: 2,
    SIGSEGV: 11,
  };
  return (signal && numbers[signal]) ?? 0;
}
