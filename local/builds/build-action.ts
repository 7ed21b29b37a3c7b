import { randomUUID } from 'node:crypto';
import { BUILDER_REPORT, BuildResult, BuildStateChangeDetail } from '../../lambda/contracts/builds';
import type { LocalLogEvent } from '../services/logs';
import type { LocalLogStreams } from '../services/log-streams';
import type { BuilderRun } from './builder-process';
import { buildStateChange, CodeBuildBuild } from './build-state-change';

/**
 * How a build ended, as CodeBuild's last event says, with what the builder reported; or
 * INTERRUPTED, when local mode stopped under it: no event then, its execution runs again at the
 * next start.
 */
export interface BuildEnd {
  readonly status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'STOPPED' | 'INTERRUPTED';
  readonly result?: BuildResult;
  readonly reason?: string;
}

export interface BuildActionOptions {
  readonly project: string;
  readonly logGroup: string;
  readonly region: string;
  readonly account: string;
  /** Past this, the build is stopped and ends TIMED_OUT, as the project's timeout does. */
  readonly timeoutMs: number;
  readonly run: BuilderRun;
  readonly logs: LocalLogStreams<LocalLogEvent>;
  /** Sends a `Build State Change` event through EventBridge's rules. */
  readonly emit: (detail: BuildStateChangeDetail) => Promise<void>;
}

/** A CodeBuild build under way: StopBuild stops it, `done` says how it ended. */
export interface RunningBuild extends CodeBuildBuild {
  /** StopBuild; or, `interrupted`, local mode stopping under it. */
  stop(interrupted?: 'interrupted'): void;
  readonly done: Promise<BuildEnd>;
  /** How it ended, once it did. */
  ended?: BuildEnd;
}

/**
 * The pipeline's build action as CodeBuild runs it: a build `<project>:<uuid>` that logs every
 * line of the builder to `<project>/<uuid>` in the build log group, sends IN_PROGRESS when it
 * starts and SUCCEEDED, FAILED, TIMED_OUT or STOPPED when it ends, and succeeds only when the
 * builder exits 0 having reported `BUILD_RESULT`.
 */
export function startBuildAction(
  options: BuildActionOptions,
  environment: Readonly<Record<string, string>>,
): RunningBuild {
  const uuid = randomUUID();
  const id = `${options.project}:${uuid}`;
  const build: CodeBuildBuild = {
    id,
    arn: `arn:aws:codebuild:${options.region}:${options.account}:build/${id}`,
    project: options.project,
    startTime: new Date(),
    environment,
    logs: { group: options.logGroup, stream: `${options.project}/${uuid}` },
  };
  const controller = new AbortController();
  let ending: 'STOPPED' | 'TIMED_OUT' | 'INTERRUPTED' | undefined;
  const stop = (why: 'STOPPED' | 'TIMED_OUT' | 'INTERRUPTED') => {
    ending ??= why;
    controller.abort();
  };
  const done = (async (): Promise<BuildEnd> => {
    options.logs.create(build.logs.stream);
    await options.emit(buildStateChange(build, 'IN_PROGRESS'));
    let result: BuildResult | undefined;
    let reason: string | undefined;
    const log = (line: string) => {
      options.logs.append(build.logs.stream, { timestamp: Date.now(), message: line });
      if (line.startsWith(`${BUILDER_REPORT.result} `)) {
        result = JSON.parse(line.slice(BUILDER_REPORT.result.length + 1)) as BuildResult;
      } else if (line.startsWith(`${BUILDER_REPORT.failed} `)) {
        reason = line.slice(BUILDER_REPORT.failed.length + 1);
      }
    };
    const timer = setTimeout(() => stop('TIMED_OUT'), options.timeoutMs);
    let code: number;
    try {
      code = await options.run(environment, log, controller.signal);
    } finally {
      clearTimeout(timer);
    }
    const status = ending ?? (code === 0 && result ? 'SUCCEEDED' : 'FAILED');
    if (status === 'TIMED_OUT') {
      log(`Build timed out after ${Math.round(options.timeoutMs / 60_000)} minutes`);
    }
    if (status === 'INTERRUPTED') return { status };
    await options.emit(buildStateChange(build, status));
    return {
      status,
      ...(status === 'SUCCEEDED' && { result }),
      ...(status !== 'SUCCEEDED' && {
        reason: reason ?? (status === 'FAILED' ? `the builder exited with code ${code}` : status),
      }),
    };
  })();
  const running: RunningBuild = {
    ...build,
    stop: (interrupted) => stop(interrupted ? 'INTERRUPTED' : 'STOPPED'),
    done,
  };
  void done.then((end) => (running.ended = end));
  return running;
}
