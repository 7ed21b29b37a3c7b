import type { RetryStrategy } from '@aws-sdk/client-batch';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { BatchJobDetail, BatchJobStateChange } from '../../lambda/contracts/batch-job-state-change';
import { close, listen } from '../port-check';
import { guardServer, RequestGuard } from './request-guard';
import { RunningService } from './running-service';

/**
 * An AWS Batch endpoint for local mode (REST JSON, as the AWS SDK v3 speaks it) that accepts
 * SubmitJob, TerminateJob, DescribeJobs, ListJobs (by queue and status, in pages),
 * (De)RegisterJobDefinition and UpdateJobQueue (a disabled queue refuses submissions) and keeps
 * them in memory.
 * Jobs whose definition has a local runner run (the converter container, as a child process; the
 * input stager), and each state change goes to `onStateChange` as the `Batch Job State Change`
 * event EventBridge would deliver. Algorithm jobs go to the algorithm runner (which reports their
 * states itself), are refused with its reason when it cannot run them, or only queue when there is
 * none. A job that depends on others (`dependsOn`, on jobs with a local runner) stays PENDING
 * until they end, and fails with "Dependent Job failed" if one did not succeed, as in Batch.
 * Handlers reach it through AWS_ENDPOINT_URL_BATCH.
 *
 * Stopping it is the machine going away under its jobs: each runner job under way is stopped and
 * goes back to RUNNABLE, the algorithm runner loses its host (see `AlgorithmJobRunner`), and the
 * jobs that have not ended, with the job definitions, are kept in `stateFile` for the next start,
 * which runs them.
 */
export interface LocalBatchJob {
  readonly jobId: string;
  readonly jobName: string;
  readonly jobQueue: string;
  readonly jobDefinition: string;
  readonly parameters: Record<string, string>;
  /** Variables for the job's container, as SubmitJob's containerOverrides give them. */
  readonly environment: Record<string, string>;
  /** The jobs it waits for (SubmitJob's dependsOn). */
  readonly dependsOn: readonly string[];
  /** When it was submitted, in milliseconds (absent from jobs a stand-in before it kept). */
  readonly createdAt?: number;
  status: BatchJobDetail['status'];
  statusReason?: string;
  exitCode?: number;
  /** The attempts that ended without ending the job, as Batch lists them. */
  attempts: NonNullable<BatchJobDetail['attempts']>[number][];
  /** From the job definition it was submitted with, when that was registered here. */
  readonly retryStrategy?: RetryStrategy;
}

/**
 * Runs one job to its end, as its container would; resolves with the container's exit code. An
 * aborted `lost` is the machine going away: the container is killed at once.
 */
export type LocalJobRunner = (job: LocalBatchJob, lost: AbortSignal) => Promise<{ exitCode: number }>;

export interface BatchStandInOptions {
  readonly host: string;
  readonly port: number;
  /** Runners by job definition name. */
  readonly runners?: Readonly<Record<string, LocalJobRunner>>;
  readonly onStateChange?: (event: BatchJobStateChange) => Promise<void>;
  /** Runs algorithm jobs; a string refuses them with that reason; none only records them. */
  readonly algorithms?: AlgorithmJobRunner | string;
  /**
   * The file that keeps the jobs not ended and the job definitions across restarts.
   * @default - jobs live in memory only
   */
  readonly stateFile?: string;
  /** Checks each request before Batch acts on it (local IAM). */
  readonly guard?: RequestGuard;
}

/** What runs the algorithm jobs submitted locally. */
export interface AlgorithmJobRunner {
  submit(job: LocalBatchJob): void;
  terminate(job: LocalBatchJob, reason: string): void;
  /**
   * The host goes away: the job running is stopped and its container removed, and it ends as
   * Batch ends an attempt whose instance was terminated; jobs waiting stay RUNNABLE. Resolves once
   * their events are delivered.
   */
  loseHost(): Promise<void>;
}

/** A job definition as RegisterJobDefinition was given it, with its revision. */
export interface LocalJobDefinition {
  readonly jobDefinitionArn: string;
  readonly input: Record<string, unknown>;
  status: 'ACTIVE' | 'INACTIVE';
}

export interface BatchStandIn extends RunningService {
  readonly jobs: readonly LocalBatchJob[];
  readonly jobDefinitions: readonly LocalJobDefinition[];
  /** The active job definition that a name (its latest revision), name:revision or ARN names. */
  jobDefinition(name: string): (LocalJobDefinition & { readonly revision: number }) | undefined;
  /**
   * Resolves when every job that has started running has ended and its events are handled; jobs
   * held in a paused queue count, so resume it first.
   */
  settled(): Promise<void>;
  /**
   * Holds the jobs with a local runner that reach `jobQueue` RUNNABLE until `resumeQueue`, as
   * Batch holds them while their compute environments have no capacity: what waits on them waits,
   * and TerminateJob ends them.
   */
  pauseQueue(jobQueue: string): void;
  resumeQueue(jobQueue: string): void;
  stop(): Promise<void>;
}

const LOCAL_ARN = 'arn:aws:batch:eu-central-1:000000000000';

export async function startBatchStandIn(options: BatchStandInOptions): Promise<BatchStandIn> {
  const kept = loadState(options.stateFile);
  const jobs: LocalBatchJob[] = kept.jobs;
  const definitions: LocalJobDefinition[] = kept.definitions;
  const running = new Set<Promise<void>>();
  /** When each job with a local runner has ended and its events are handled. */
  const ended = new Map<string, Promise<void>>();
  /** Jobs waiting for the jobs they depend on. */
  const waiting = new Set<string>();
  const disabledQueues = new Set<string>();
  /** Queues whose jobs wait RUNNABLE, as when their compute environments have no capacity. */
  const pausedQueues = new Set<string>();
  /** Jobs waiting in a paused queue, each with what lets it start. */
  const held = new Map<string, () => void>();
  const lost = new AbortController();

  const emit = async (job: LocalBatchJob) => {
    const event: BatchJobStateChange = {
      source: 'aws.batch',
      'detail-type': 'Batch Job State Change',
      detail: {
        jobId: job.jobId,
        jobName: job.jobName,
        jobQueue: `${LOCAL_ARN}:job-queue/${job.jobQueue}`,
        status: job.status,
        ...(job.statusReason !== undefined && { statusReason: job.statusReason }),
        ...(job.exitCode !== undefined && { container: { exitCode: job.exitCode } }),
        attempts: job.attempts,
      },
    };
    try {
      await options.onStateChange?.(event);
    } catch (err) {
      console.error(`Batch state change of job ${job.jobId} not handled: ${(err as Error).message}`);
    }
  };

  const run = async (job: LocalBatchJob, runner: LocalJobRunner) => {
    // Not started before the machine went away: it stays queued for the next start.
    if (lost.signal.aborted) return;
    // Terminated before it started.
    if (job.status === 'FAILED') return emit(job);
    job.status = 'RUNNING';
    await emit(job);
    try {
      const { exitCode } = await runner(job, lost.signal);
      job.exitCode = exitCode;
      if (exitCode !== 0) job.statusReason = 'Essential container in task exited';
    } catch (err) {
      job.statusReason = `CannotStartContainerError: ${(err as Error).message}`;
    }
    if (lost.signal.aborted) {
      // Local mode stopped under it, which is no failure of the job's: it runs again at the next
      // start. (The converter's job definition has one attempt: in AWS a lost host fails it.)
      Object.assign(job, { status: 'RUNNABLE', exitCode: undefined, statusReason: undefined });
      return;
    }
    if (job.status === 'RUNNING') job.status = job.exitCode === 0 ? 'SUCCEEDED' : 'FAILED';
    await emit(job);
  };
  /** Work after the response, as Batch starts a job some time after accepting it; `settled` waits for it. */
  const track = (work: () => Promise<void>): Promise<void> => {
    const done: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
      .then(work)
      .finally(() => running.delete(done));
    running.add(done);
    return done;
  };

  const launch = (job: LocalBatchJob) => {
    const runner = options.runners?.[job.jobDefinition];
    if (runner) {
      ended.set(
        job.jobId,
        track(async () => {
          if (pausedQueues.has(job.jobQueue)) {
            job.status = 'RUNNABLE';
            await new Promise<void>((resolve) => held.set(job.jobId, resolve));
          }
          return run(job, runner);
        }),
      );
    } else if (typeof options.algorithms === 'object') options.algorithms.submit(job);
  };

  const launchAfter = (job: LocalBatchJob, dependencies: readonly string[]) => {
    job.status = 'PENDING';
    waiting.add(job.jobId);
    void track(async () => {
      await Promise.all(dependencies.map((id) => ended.get(id)));
      // The machine went away first: it stays PENDING for the next start.
      if (lost.signal.aborted) return;
      // Terminated while it waited.
      if (!waiting.delete(job.jobId)) return;
      if (dependencies.some((id) => jobs.find((j) => j.jobId === id)!.status !== 'SUCCEEDED')) {
        [job.status, job.statusReason] = ['FAILED', 'Dependent Job failed'];
        return emit(job);
      }
      job.status = 'RUNNABLE';
      launch(job);
    });
  };

  const operations: Record<string, (input: Record<string, unknown>) => unknown> = {
    '/v1/submitjob': (input) => {
      for (const field of ['jobName', 'jobQueue', 'jobDefinition']) {
        if (typeof input[field] !== 'string' || input[field] === '') throw new Error(`${field} is required`);
      }
      const dependencies = ((input.dependsOn ?? []) as { jobId?: unknown }[]).map(({ jobId }) =>
        String(jobId),
      );
      const job: LocalBatchJob = {
        jobId: randomUUID(),
        jobName: String(input.jobName),
        jobQueue: String(input.jobQueue),
        jobDefinition: String(input.jobDefinition),
        parameters: (input.parameters ?? {}) as Record<string, string>,
        environment: Object.fromEntries(
          (
            (input.containerOverrides as { environment?: { name: string; value: string }[] } | undefined)
              ?.environment ?? []
          ).map(({ name, value }) => [name, value]),
        ),
        dependsOn: dependencies,
        createdAt: Date.now(),
        status: 'SUBMITTED',
        attempts: [],
        retryStrategy: definitions.find((d) => d.jobDefinitionArn === input.jobDefinition)?.input
          .retryStrategy as RetryStrategy | undefined,
      };
      if (disabledQueues.has(job.jobQueue)) throw new Error(`JobQueue ${job.jobQueue} is DISABLED`);
      const runner = options.runners?.[job.jobDefinition];
      if (!runner && typeof options.algorithms === 'string') throw new Error(options.algorithms);
      for (const id of dependencies) {
        if (!jobs.some((j) => j.jobId === id))
          throw new Error(`the job it depends on, ${id}, does not exist`);
        if (!ended.has(id)) throw new Error(`local Batch waits only on jobs that it runs itself, not ${id}`);
      }
      jobs.push(job);
      if (dependencies.length > 0) launchAfter(job, dependencies);
      else launch(job);
      return {
        jobArn: `${LOCAL_ARN}:job/${job.jobId}`,
        jobName: job.jobName,
        jobId: job.jobId,
      };
    },
    '/v1/terminatejob': (input) => {
      const job = jobs.find((j) => j.jobId === input.jobId);
      if (!job) throw new Error(`job ${String(input.jobId)} does not exist`);
      const reason = String(input.reason ?? 'terminated');
      // A job that has ended stays as it ended, as in Batch.
      if (options.runners?.[job.jobDefinition] && ['SUCCEEDED', 'FAILED'].includes(job.status)) return {};
      if (waiting.delete(job.jobId)) {
        [job.status, job.statusReason] = ['FAILED', reason];
        void track(() => emit(job));
      } else if (!options.runners?.[job.jobDefinition] && typeof options.algorithms === 'object') {
        options.algorithms.terminate(job, reason);
      } else {
        [job.status, job.statusReason] = ['FAILED', reason];
        // A job held in a paused queue ends now, saying so.
        held.get(job.jobId)?.();
        held.delete(job.jobId);
      }
      return {};
    },
    '/v1/updatejobqueue': (input) => {
      const queue = String(input.jobQueue ?? '')
        .split('/')
        .pop()!;
      if (input.state === 'DISABLED') disabledQueues.add(queue);
      else if (input.state === 'ENABLED') disabledQueues.delete(queue);
      return { jobQueueName: queue, jobQueueArn: `${LOCAL_ARN}:job-queue/${queue}` };
    },
    '/v1/registerjobdefinition': (input) => {
      const name = String(input.jobDefinitionName ?? '');
      if (!/^[A-Za-z0-9_-]{1,128}$/.test(name)) throw new Error(`jobDefinitionName "${name}" is not valid`);
      const revision = definitions.filter((d) => d.input.jobDefinitionName === name).length + 1;
      const jobDefinitionArn = `${LOCAL_ARN}:job-definition/${name}:${revision}`;
      definitions.push({ jobDefinitionArn, input, status: 'ACTIVE' });
      return { jobDefinitionName: name, jobDefinitionArn, revision };
    },
    '/v1/deregisterjobdefinition': (input) => {
      const definition = definitions.find((d) => d.jobDefinitionArn === input.jobDefinition);
      if (!definition) throw new Error(`job definition ${String(input.jobDefinition)} does not exist`);
      definition.status = 'INACTIVE';
      return {};
    },
    '/v1/describejobs': (input) => ({
      jobs: jobs
        .filter((j) => ((input.jobs as string[] | undefined) ?? []).includes(j.jobId))
        .map((j) => ({ ...j, createdAt: j.createdAt ?? Date.now() })),
    }),
    '/v1/listjobs': (input) => {
      const queue = String(input.jobQueue ?? '')
        .split('/')
        .pop()!;
      if (queue === '') throw new Error('jobQueue is required');
      // Batch lists RUNNING jobs when no status is given.
      const status = String(input.jobStatus ?? 'RUNNING');
      const pageSize = Number(input.maxResults ?? 100);
      if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
        throw new Error('maxResults must be between 1 and 1000');
      }
      const from = input.nextToken === undefined ? 0 : Number(input.nextToken);
      const matching = jobs.filter((j) => j.jobQueue === queue && j.status === status);
      const page = matching.slice(from, from + pageSize);
      return {
        jobSummaryList: page.map((j) => ({
          jobArn: `${LOCAL_ARN}:job/${j.jobId}`,
          jobId: j.jobId,
          jobName: j.jobName,
          createdAt: j.createdAt ?? Date.now(),
          status: j.status,
        })),
        ...(from + pageSize < matching.length && { nextToken: String(from + pageSize) }),
      };
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const operation = operations[(req.url ?? '').toLowerCase()];
      try {
        if (req.method !== 'POST' || !operation)
          throw new Error(`${req.method} ${req.url} is not supported locally`);
        const body = JSON.stringify(operation(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}')));
        res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      } catch (err) {
        res
          .writeHead(400, { 'content-type': 'application/json', 'x-amzn-errortype': 'ClientException' })
          .end(JSON.stringify({ __type: 'ClientException', message: (err as Error).message }));
      }
    });
  });
  guardServer(server, options.guard);
  await listen(server, options.host, options.port);
  // What an earlier run left queued runs now, in the order it was submitted; the ended jobs kept
  // are those that a waiting job depends on.
  for (const job of jobs) {
    const dependencies = job.dependsOn ?? [];
    if (job.status === 'SUCCEEDED' || job.status === 'FAILED') ended.set(job.jobId, Promise.resolve());
    else if (job.status === 'PENDING' && dependencies.length > 0) launchAfter(job, dependencies);
    else launch(job);
  }
  const settled = async () => {
    while (running.size > 0) await Promise.all(running);
  };
  return {
    env: { AWS_ENDPOINT_URL_BATCH: `http://${options.host}:${options.port}` },
    jobs,
    jobDefinitions: definitions,
    jobDefinition: (name) => {
      const revisionOf = (d: LocalJobDefinition) => Number(d.jobDefinitionArn.split(':').pop());
      const wanted = name.startsWith('arn:') ? name.slice(name.indexOf('job-definition/') + 15) : name;
      const [definitionName, revision] = wanted.split(':');
      const found = definitions
        .filter((d) => d.input.jobDefinitionName === definitionName && d.status === 'ACTIVE')
        .filter((d) => revision === undefined || revisionOf(d) === Number(revision))
        .sort((a, b) => revisionOf(b) - revisionOf(a))[0];
      return found && { ...found, revision: revisionOf(found) };
    },
    settled,
    pauseQueue: (jobQueue) => pausedQueues.add(jobQueue),
    resumeQueue: (jobQueue) => {
      pausedQueues.delete(jobQueue);
      for (const job of jobs.filter((j) => j.jobQueue === jobQueue && held.has(j.jobId))) {
        held.get(job.jobId)!();
        held.delete(job.jobId);
      }
    },
    stop: async () => {
      await close(server);
      lost.abort();
      // Jobs held in a paused queue find the machine gone and stay queued.
      for (const release of held.values()) release();
      held.clear();
      if (typeof options.algorithms === 'object') await options.algorithms.loseHost();
      await settled();
      saveState(options.stateFile, { jobs, definitions });
    },
  };
}

interface BatchState {
  readonly jobs: LocalBatchJob[];
  readonly definitions: LocalJobDefinition[];
}

function loadState(stateFile: string | undefined): BatchState {
  if (!stateFile || !fs.existsSync(stateFile)) return { jobs: [], definitions: [] };
  return JSON.parse(fs.readFileSync(stateFile, 'utf8')) as BatchState;
}

/**
 * Keeps the jobs that have not ended, the ended ones that those depend on, and every job
 * definition, for the next start.
 */
function saveState(stateFile: string | undefined, state: BatchState): void {
  if (!stateFile) return;
  const hasEnded = (job: LocalBatchJob) => job.status === 'SUCCEEDED' || job.status === 'FAILED';
  const waiting = state.jobs.filter((job) => !hasEnded(job));
  const needed = new Set(waiting.flatMap((job) => job.dependsOn ?? []));
  const kept = state.jobs.filter((job) => !hasEnded(job) || needed.has(job.jobId));
  fs.mkdirSync(path.dirname(stateFile), { recursive: true });
  fs.writeFileSync(stateFile, JSON.stringify({ jobs: kept, definitions: state.definitions }));
}
