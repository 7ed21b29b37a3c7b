import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import { close, listen } from './port-check';

/**
 * An AWS Batch endpoint for local mode (REST JSON, as the AWS SDK v3 speaks it) that accepts
 * SubmitJob, TerminateJob and DescribeJobs and keeps the jobs in memory. Jobs whose definition
 * has a local runner run (the converter container, as a child process); the others only queue.
 * Each state change of a run job goes to `onStateChange` as the `Batch Job State Change` event
 * EventBridge would deliver. Handlers reach it through AWS_ENDPOINT_URL_BATCH.
 */
export interface LocalBatchJob {
  readonly jobId: string;
  readonly jobName: string;
  readonly jobQueue: string;
  readonly jobDefinition: string;
  readonly parameters: Record<string, string>;
  status: 'SUBMITTED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  statusReason?: string;
  exitCode?: number;
}

/** Runs one job to its end, as its container would; resolves with the container's exit code. */
export type LocalJobRunner = (job: LocalBatchJob) => Promise<{ exitCode: number }>;

/** The parts of a `Batch Job State Change` event that the platform's handlers read. */
export interface LocalBatchJobStateChange {
  readonly source: 'aws.batch';
  readonly 'detail-type': 'Batch Job State Change';
  readonly detail: {
    readonly jobId: string;
    readonly jobName: string;
    readonly jobQueue: string;
    readonly status: LocalBatchJob['status'];
    readonly statusReason?: string;
    readonly container?: { readonly exitCode?: number };
  };
}

export interface BatchStandInOptions {
  readonly host: string;
  readonly port: number;
  /** Runners by job definition name. */
  readonly runners?: Readonly<Record<string, LocalJobRunner>>;
  readonly onStateChange?: (event: LocalBatchJobStateChange) => Promise<void>;
}

export interface BatchStandIn {
  readonly jobs: readonly LocalBatchJob[];
  /** Resolves when every job that has started running has ended and its events are handled. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

const LOCAL_ARN = 'arn:aws:batch:eu-central-1:000000000000';

export async function startBatchStandIn(options: BatchStandInOptions): Promise<BatchStandIn> {
  const jobs: LocalBatchJob[] = [];
  const running = new Set<Promise<void>>();

  const emit = async (job: LocalBatchJob) => {
    const event: LocalBatchJobStateChange = {
      source: 'aws.batch',
      'detail-type': 'Batch Job State Change',
      detail: {
        jobId: job.jobId,
        jobName: job.jobName,
        jobQueue: `${LOCAL_ARN}:job-queue/${job.jobQueue}`,
        status: job.status,
        ...(job.statusReason !== undefined && { statusReason: job.statusReason }),
        ...(job.exitCode !== undefined && { container: { exitCode: job.exitCode } }),
      },
    };
    try {
      await options.onStateChange?.(event);
    } catch (err) {
      console.error(`Batch state change of job ${job.jobId} not handled: ${(err as Error).message}`);
    }
  };

  const run = async (job: LocalBatchJob, runner: LocalJobRunner) => {
    job.status = 'RUNNING';
    await emit(job);
    try {
      const { exitCode } = await runner(job);
      job.exitCode = exitCode;
      if (exitCode !== 0) job.statusReason = 'Essential container in task exited';
    } catch (err) {
      job.statusReason = `CannotStartContainerError: ${(err as Error).message}`;
    }
    if (job.status === 'RUNNING') job.status = job.exitCode === 0 ? 'SUCCEEDED' : 'FAILED';
    await emit(job);
  };

  const operations: Record<string, (input: Record<string, unknown>) => unknown> = {
    '/v1/submitjob': (input) => {
      for (const field of ['jobName', 'jobQueue', 'jobDefinition']) {
        if (typeof input[field] !== 'string' || input[field] === '') throw new Error(`${field} is required`);
      }
      const job: LocalBatchJob = {
        jobId: randomUUID(),
        jobName: String(input.jobName),
        jobQueue: String(input.jobQueue),
        jobDefinition: String(input.jobDefinition),
        parameters: (input.parameters ?? {}) as Record<string, string>,
        status: 'SUBMITTED',
      };
      jobs.push(job);
      const runner = options.runners?.[job.jobDefinition];
      if (runner) {
        // After the response, as Batch starts a job some time after accepting it.
        const done: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
          .then(() => run(job, runner))
          .finally(() => running.delete(done));
        running.add(done);
      }
      return {
        jobArn: `${LOCAL_ARN}:job/${job.jobId}`,
        jobName: job.jobName,
        jobId: job.jobId,
      };
    },
    '/v1/terminatejob': (input) => {
      const job = jobs.find((j) => j.jobId === input.jobId);
      if (!job) throw new Error(`job ${String(input.jobId)} does not exist`);
      job.status = 'FAILED';
      job.statusReason = String(input.reason ?? 'terminated');
      return {};
    },
    '/v1/describejobs': (input) => ({
      jobs: jobs
        .filter((j) => ((input.jobs as string[] | undefined) ?? []).includes(j.jobId))
        .map((j) => ({ ...j, createdAt: Date.now() })),
    }),
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
  await listen(server, options.host, options.port);
  const settled = async () => {
    while (running.size > 0) await Promise.all(running);
  };
  return {
    jobs,
    settled,
    stop: async () => {
      await close(server);
      await settled();
    },
  };
}
