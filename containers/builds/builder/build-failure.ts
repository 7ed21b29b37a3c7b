/** Why a build failed, in words for its author: the reason of `BUILD_FAILED`. */
export class BuildFailure extends Error {}

/** Lines of a failing step that the reason quotes. */
const LAST_LINES = 20;
/** Longest line, and instruction, that the reason quotes. */
const LONGEST = 300;

interface Step {
  /** `n/m`, as the engine counts. */
  readonly step: string;
  /** The stage's name, for a multi-stage build that BuildKit reports by name. */
  readonly stage?: string;
  readonly instruction: string;
  readonly lines: string[];
}

// ANSI colours and cursor moves that engines add on terminals.
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;
// podman: `STEP 3/5: RUN pip install x`, `[2/2] STEP 1/3: FROM ...` in a multi-stage build.
const PODMAN_STEP = /^(?:\[\d+\/\d+\] )?STEP (\d+\/\d+): (.*)$/;
// BuildKit: `#7 [2/5] RUN pip install x`, `#9 [build 3/4] COPY ...`.
const BUILDKIT_STEP = /^#(\d+) \[(?:(\S+) )?(\d+\/\d+)\] (.*)$/;
// BuildKit: `#7 1.234 output of the step`.
const BUILDKIT_OUTPUT = /^#(\d+) \d+\.\d+ (.*)$/;
const BUILDKIT_STEP_ERROR = /^#(\d+) ERROR: (.*)$/;
const ENGINE_ERROR = /^(?:Error|ERROR): (.*)$/;

/**
 * Reads an engine's build output line by line (podman's `STEP n/m:` lines, or BuildKit's plain
 * progress) and tells, when the build fails, the step that failed, its exit code and its last
 * lines: `the Dockerfile failed at step 3/5 (RUN pip install x): exit code 1; last lines: ...`.
 */
export class BuildOutput {
  private current: Step | undefined;
  private readonly vertices = new Map<string, Step>();
  private failed: Step | undefined;
  private error: string | undefined;
  private readonly tail: string[] = [];

  line(raw: string): void {
    const text = raw.replace(ANSI, '').trimEnd();
    if (text === '') return;
    let match: RegExpMatchArray | null;
    if ((match = text.match(PODMAN_STEP))) {
      this.current = { step: match[1], instruction: match[2], lines: [] };
    } else if ((match = text.match(BUILDKIT_STEP))) {
      if (!this.vertices.has(match[1])) {
        this.vertices.set(match[1], { step: match[3], stage: match[2], instruction: match[4], lines: [] });
      }
    } else if ((match = text.match(BUILDKIT_OUTPUT)) && this.vertices.has(match[1])) {
      keep(this.vertices.get(match[1])!.lines, match[2]);
    } else if ((match = text.match(BUILDKIT_STEP_ERROR)) && this.vertices.has(match[1])) {
      this.failed ??= this.vertices.get(match[1]);
      this.error ??= match[2];
    } else if ((match = text.match(ENGINE_ERROR))) {
      this.error ??= match[1].replace(/^failed to solve: /, '');
    } else if (!text.startsWith('#')) {
      if (this.current) keep(this.current.lines, text);
      keep(this.tail, text);
    }
  }

  /** The instruction of the step that failed (or was running when the engine stopped), if any. */
  failedInstruction(): string | undefined {
    return (this.failed ?? this.current)?.instruction;
  }

  /** The reason the build failed, after the engine exited with `exitCode`. */
  reason(exitCode: number | null): string {
    const step = this.failed ?? this.current;
    const code = this.error?.match(/exit (?:code|status):? (\d+)/)?.[1];
    const why = code ? `exit code ${code}` : (this.error ?? `the engine exited with code ${exitCode}`);
    const lines = (step?.lines.length ? step.lines : this.tail).map(clip);
    const last = lines.length > 0 ? `; last lines: ${lines.join(' | ')}` : '';
    if (!step) return `the Dockerfile could not be built: ${clip(why)}${last}`;
    const stage = step.stage ? ` of stage ${step.stage}` : '';
    return `the Dockerfile failed at step ${step.step}${stage} (${clip(step.instruction)}): ${clip(why)}${last}`;
  }
}

function keep(lines: string[], line: string): void {
  lines.push(line);
  if (lines.length > LAST_LINES) lines.shift();
}

function clip(text: string): string {
  return text.length > LONGEST ? `${text.slice(0, LONGEST)}...` : text;
}
