import type { S3Client } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUILD_PIPELINE, BUILDER_ENVIRONMENT, BUILD_IMAGE_TAGS } from '../../lambda/contracts/builds';
import { BuildActionOptions, RunningBuild, startBuildAction } from './build-action';
import { fetchBuildSource, SourceError } from './build-source';
import { JobOutcome, PipelineJobs } from './pipeline-jobs';

export type ExecutionStatus = 'InProgress' | 'Stopping' | 'Stopped' | 'Succeeded' | 'Failed';

/** A pipeline execution as GetPipelineExecution describes it. */
export interface PipelineExecution {
  readonly id: string;
  status: ExecutionStatus;
  statusSummary?: string;
  readonly variables: Readonly<Record<string, string>>;
  readonly sourceKey?: string;
  readonly startTime: Date;
  lastUpdateTime: Date;
  /** The build action's CodeBuild build, once it started. */
  build?: RunningBuild;
  /** The register action's job, while it waits for its function. */
  jobId?: string;
  stopRequested?: 'stop' | 'abandon';
}

/** CodePipeline's refusal of a request, by its error type. */
export class PipelineError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export interface LocalBuildPipelineOptions extends Omit<BuildActionOptions, 'timeoutMs'> {
  readonly pipeline: string;
  /** Where the source action reads the source objects: the imaging bucket, as the pipeline's role. */
  readonly bucket: string;
  readonly s3: S3Client;
  /** Where each execution's source is unpacked, one folder per execution. */
  readonly scratchRoot: string;
  /** Builds that run at once; the others wait for one to end. */
  readonly concurrency: number;
  /** The project's timeout. */
  readonly buildTimeoutMs: number;
  /** The project's own environment variables (repository, engine, limits). */
  readonly projectEnvironment: Readonly<Record<string, string>>;
  /** The register action's function, by name, and how to invoke it; none fails the action. */
  readonly register?: {
    readonly functionName: string;
    readonly invoke: (event: unknown) => Promise<unknown>;
  };
  /** How long the register action waits for its function's result. */
  readonly actionTimeoutMs: number;
  /**
   * Keeps the executions under way across restarts: those that local mode's stop interrupted run
   * again, from their source, at the next start (`resume`).
   * @default - kept in memory only
   */
  readonly stateFile?: string;
}

/** What the state file keeps of an execution under way. */
interface KeptExecution {
  readonly id: string;
  readonly variables: Readonly<Record<string, string>>;
  readonly sourceKey?: string;
  readonly startTime: string;
  readonly token?: string;
}

/** The pipeline-level variables, with their defaults (undefined: required). */
const VARIABLE_DEFAULTS: Readonly<Record<string, string | undefined>> = {
  [BUILD_PIPELINE.variables.algorithmId]: undefined,
  [BUILD_PIPELINE.variables.buildId]: undefined,
  [BUILD_PIPELINE.variables.dockerfile]: 'Dockerfile',
};

/**
 * The build pipeline in local mode, as CodePipeline V2 runs it in PARALLEL mode: every execution
 * runs on its own, none supersedes another. Each runs the source action (the overridden object,
 * unzipped), the build action (the builder, as CodeBuild runs it) and the register action (the
 * function invoked with a CodePipeline job, which it answers with PutJob*Result). Unlike
 * CodePipeline, at most `concurrency` builds run at once, the others waiting their turn: the
 * builds share this machine. Executions under way when local mode stops are kept in its state
 * file and run again from their source at its next start, as a job or a conversion is; a build
 * the stop interrupted sends no event (the function that follows builds sees it start again).
 */
export class LocalBuildPipeline {
  readonly executions = new Map<string, PipelineExecution>();
  readonly jobs = new PipelineJobs();
  private readonly tokens = new Map<string, string>();
  private readonly running = new Set<Promise<void>>();
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  /** Set by `close`: what ends now was interrupted, and stays under way in the state file. */
  private closing = false;

  constructor(private readonly options: LocalBuildPipelineOptions) {}

  /** Runs again the executions that the last stop interrupted, kept in the state file. */
  resume(): void {
    const file = this.options.stateFile;
    if (!file || !fs.existsSync(file)) return;
    const kept = JSON.parse(fs.readFileSync(file, 'utf8')) as KeptExecution[];
    for (const { id, variables, sourceKey, startTime, token } of kept) {
      const execution: PipelineExecution = {
        id,
        status: 'InProgress',
        variables,
        sourceKey,
        startTime: new Date(startTime),
        lastUpdateTime: new Date(),
      };
      this.launch(execution, token);
    }
  }

  get name(): string {
    return this.options.pipeline;
  }

  /** Builds that run at once. */
  get concurrency(): number {
    return this.options.concurrency;
  }

  /** StartPipelineExecution: the execution's id; the execution runs in the background. */
  start(input: {
    variables?: readonly { name?: string; value?: string }[];
    sourceRevisions?: readonly { actionName?: string; revisionType?: string; revisionValue?: string }[];
    clientRequestToken?: string;
  }): string {
    if (input.clientRequestToken && this.tokens.has(input.clientRequestToken)) {
      return this.tokens.get(input.clientRequestToken)!;
    }
    const variables: Record<string, string> = {};
    for (const { name, value } of input.variables ?? []) {
      if (!name || !(name in VARIABLE_DEFAULTS)) {
        throw new PipelineError(
          'ValidationException',
          `the pipeline declares no variable ${name ?? '(none)'}`,
        );
      }
      variables[name] = value ?? '';
    }
    for (const [name, fallback] of Object.entries(VARIABLE_DEFAULTS)) {
      if (variables[name] !== undefined) continue;
      if (fallback === undefined) {
        throw new PipelineError(
          'ValidationException',
          `the pipeline variable ${name} has no default and needs a value`,
        );
      }
      variables[name] = fallback;
    }
    let sourceKey: string | undefined;
    for (const revision of input.sourceRevisions ?? []) {
      if (revision.actionName !== BUILD_PIPELINE.sourceAction) {
        throw new PipelineError(
          'ValidationException',
          `the pipeline has no source action ${revision.actionName}`,
        );
      }
      if (revision.revisionType !== 'S3_OBJECT_KEY') {
        throw new PipelineError(
          'ValidationException',
          `the source action ${revision.actionName} takes S3_OBJECT_KEY revisions, not ${revision.revisionType}`,
        );
      }
      sourceKey = revision.revisionValue;
    }
    const now = new Date();
    const execution: PipelineExecution = {
      id: randomUUID(),
      status: 'InProgress',
      variables,
      sourceKey,
      startTime: now,
      lastUpdateTime: now,
    };
    this.launch(execution, input.clientRequestToken);
    return execution.id;
  }

  private launch(execution: PipelineExecution, token: string | undefined): void {
    this.executions.set(execution.id, execution);
    if (token) this.tokens.set(token, execution.id);
    this.keep();
    const run = this.run(execution).finally(() => this.running.delete(run));
    this.running.add(run);
  }

  /** Writes the executions under way to the state file, whole, by rename. */
  private keep(): void {
    const file = this.options.stateFile;
    if (!file) return;
    const tokens = new Map([...this.tokens].map(([token, id]) => [id, token]));
    const kept: KeptExecution[] = [...this.executions.values()]
      .filter((e) => e.status === 'InProgress' || e.status === 'Stopping')
      .map((e) => ({
        id: e.id,
        variables: e.variables,
        sourceKey: e.sourceKey,
        startTime: e.startTime.toISOString(),
        token: tokens.get(e.id),
      }));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(kept));
    fs.renameSync(`${file}.tmp`, file);
  }

  get(executionId: string): PipelineExecution {
    const execution = this.executions.get(executionId);
    if (!execution) {
      throw new PipelineError(
        'PipelineExecutionNotFoundException',
        `Pipeline execution ${executionId} does not exist in the pipeline ${this.name}`,
      );
    }
    return execution;
  }

  /**
   * StopPipelineExecution: without `abandon`, the action under way finishes and no other starts;
   * with it, the execution stops now and its actions are left to themselves (a build runs on
   * until StopBuild stops it, as CodePipeline leaves it).
   */
  stop(executionId: string, abandon: boolean, reason?: string): void {
    const execution = this.get(executionId);
    if (execution.status !== 'InProgress' && execution.status !== 'Stopping') {
      throw new PipelineError(
        'PipelineExecutionNotStoppableException',
        `Pipeline execution ${executionId} is ${execution.status} and cannot be stopped`,
      );
    }
    if (execution.stopRequested === 'abandon' || (execution.stopRequested === 'stop' && !abandon)) {
      throw new PipelineError(
        'DuplicatedStopRequestException',
        `Pipeline execution ${executionId} is stopping already`,
      );
    }
    execution.stopRequested = abandon ? 'abandon' : 'stop';
    if (abandon) {
      this.end(execution, 'Stopped', reason ?? 'abandoned');
      if (execution.jobId) this.jobs.abandon(execution.jobId);
    } else {
      execution.status = 'Stopping';
      execution.statusSummary = reason;
      execution.lastUpdateTime = new Date();
    }
  }

  /** StopBuild: stops a build of the project; undefined when there is none by that id. */
  stopBuild(buildId: string): RunningBuild | undefined {
    const id = buildId.startsWith('arn:') ? buildId.slice(buildId.indexOf(':build/') + 7) : buildId;
    const build = [...this.executions.values()].find((e) => e.build?.id === id)?.build;
    if (!build?.ended) build?.stop();
    return build;
  }

  /** PutJobSuccessResult, PutJobFailureResult. */
  answer(jobId: string, outcome: JobOutcome): void {
    this.jobs.answer(jobId, outcome);
  }

  /**
   * Stops every build under way and waits for the executions to end, as local mode stops: they
   * stay under way in the state file, for `resume`.
   */
  async close(): Promise<void> {
    this.closing = true;
    for (const execution of this.executions.values()) execution.build?.stop('interrupted');
    for (const execution of this.executions.values()) {
      if (execution.jobId) this.jobs.abandon(execution.jobId);
    }
    while (this.running.size > 0) await Promise.all(this.running);
  }

  private async run(execution: PipelineExecution): Promise<void> {
    const scratch = path.join(this.options.scratchRoot, execution.id);
    try {
      // Source: the overridden object, as CodeBuild then downloads it.
      if (!execution.sourceKey) {
        return this.end(
          execution,
          'Failed',
          `the source action ${BUILD_PIPELINE.sourceAction} has no object`,
        );
      }
      let archive: string;
      try {
        archive = await fetchBuildSource(
          this.options.s3,
          { bucket: this.options.bucket, key: execution.sourceKey },
          scratch,
        );
      } catch (err) {
        if (err instanceof SourceError) return this.end(execution, 'Failed', err.message);
        throw err;
      }
      if (this.closing || this.stopped(execution)) return;
      const built = await this.build(execution, archive);
      if (!built || this.closing || this.stopped(execution)) return;
      // Register: the function answers the job, or the action times out.
      if (!this.options.register) {
        return this.end(execution, 'Failed', `the action ${BUILD_PIPELINE.registerAction} has no function`);
      }
      const job = this.jobs.open(this.options.actionTimeoutMs);
      execution.jobId = job.id;
      const { variables } = execution;
      const event = {
        'CodePipeline.job': {
          id: job.id,
          accountId: this.options.account,
          data: {
            actionConfiguration: {
              configuration: {
                FunctionName: this.options.register.functionName,
                UserParameters: JSON.stringify({
                  algorithmId: variables[BUILD_PIPELINE.variables.algorithmId],
                  buildId: variables[BUILD_PIPELINE.variables.buildId],
                  image: built,
                }),
              },
            },
          },
        },
      };
      // A function that fails leaves the job unanswered: the action fails at its timeout.
      this.options.register.invoke(event).catch(() => undefined);
      const outcome = await job.outcome;
      execution.jobId = undefined;
      if (execution.status === 'Stopped' || this.closing) return;
      if (outcome.succeeded) this.end(execution, execution.stopRequested ? 'Stopped' : 'Succeeded');
      else this.end(execution, 'Failed', outcome.message);
    } catch (err) {
      if (this.closing) return;
      this.end(execution, 'Failed', `local mode failed the execution: ${(err as Error).message}`);
    } finally {
      await fs.promises.rm(scratch, { recursive: true, force: true });
    }
  }

  /** The build action, when a slot is free: the image it made, or undefined when the execution ended. */
  private async build(execution: PipelineExecution, archive: string): Promise<string | undefined> {
    await this.slot();
    try {
      if (this.closing || this.stopped(execution)) return undefined;
      const { variables } = execution;
      const buildId = variables[BUILD_PIPELINE.variables.buildId];
      const build = startBuildAction(
        { ...this.options, timeoutMs: this.options.buildTimeoutMs },
        {
          ...this.options.projectEnvironment,
          ...variables,
          [BUILDER_ENVIRONMENT.contextArchive]: archive,
          [BUILDER_ENVIRONMENT.tag]: BUILD_IMAGE_TAGS.candidate(buildId),
        },
      );
      execution.build = build;
      const end = await build.done;
      if (execution.status === 'Stopped' || end.status === 'INTERRUPTED') return undefined;
      if (end.status === 'SUCCEEDED' && end.result) return end.result.image;
      this.end(
        execution,
        end.status === 'STOPPED' ? 'Stopped' : 'Failed',
        `Build ${end.status}: ${end.reason}`,
      );
      return undefined;
    } finally {
      this.release();
    }
  }

  /** Whether the execution ended or is to stop before its next action; a stop then takes effect. */
  private stopped(execution: PipelineExecution): boolean {
    if (execution.status === 'Stopping') this.end(execution, 'Stopped', execution.statusSummary);
    return execution.status !== 'InProgress';
  }

  private end(execution: PipelineExecution, status: ExecutionStatus, summary?: string): void {
    if (execution.status === 'Stopped' || execution.status === 'Succeeded' || execution.status === 'Failed')
      return;
    execution.status = status;
    execution.statusSummary = summary;
    execution.lastUpdateTime = new Date();
    this.keep();
  }

  private async slot(): Promise<void> {
    if (this.active < this.options.concurrency) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}
