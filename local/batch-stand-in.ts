import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import { close, listen } from './port-check';

/**
 * An AWS Batch endpoint for local mode (REST JSON, as the AWS SDK v3 speaks it) that accepts
 * SubmitJob, TerminateJob, DescribeJobs and (De)RegisterJobDefinition and keeps them in memory. It hands each job to a
 * runner when given one, refuses jobs with the runner's reason when it cannot run them, and
 * otherwise only records them. Handlers reach it through AWS_ENDPOINT_URL_BATCH.
 */
export interface LocalBatchJob {
  readonly jobId: string;
  readonly jobName: string;
  readonly jobQueue: string;
  readonly jobDefinition: string;
  readonly parameters: Record<string, string>;
  /** Variables for the runner's container, as SubmitJob's containerOverrides give them. */
  readonly environment: Record<string, string>;
  status: 'SUBMITTED' | 'PENDING' | 'RUNNABLE' | 'STARTING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  statusReason?: string;
}

/** What runs the jobs submitted locally. */
export interface LocalJobRunner {
  submit(job: LocalBatchJob): void;
  terminate(job: LocalBatchJob, reason: string): void;
}

/** A job definition as RegisterJobDefinition was given it, with its revision. */
export interface LocalJobDefinition {
  readonly jobDefinitionArn: string;
  readonly input: Record<string, unknown>;
  status: 'ACTIVE' | 'INACTIVE';
}

export interface BatchStandIn {
  readonly jobs: readonly LocalBatchJob[];
  readonly jobDefinitions: readonly LocalJobDefinition[];
  stop(): Promise<void>;
}

export async function startBatchStandIn(options: {
  host: string;
  port: number;
  /** Runs the jobs; a string refuses them with that reason; none only records them. */
  runner?: LocalJobRunner | string;
}): Promise<BatchStandIn> {
  const jobs: LocalBatchJob[] = [];
  const definitions: LocalJobDefinition[] = [];
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
        environment: Object.fromEntries(
          (
            ((input.containerOverrides as { environment?: { name: string; value: string }[] } | undefined)
              ?.environment ?? []) as { name: string; value: string }[]
          ).map(({ name, value }) => [name, value]),
        ),
        status: 'SUBMITTED',
      };
      if (typeof options.runner === 'string') throw new Error(options.runner);
      jobs.push(job);
      options.runner?.submit(job);
      return {
        jobArn: `arn:aws:batch:eu-central-1:000000000000:job/${job.jobId}`,
        jobName: job.jobName,
        jobId: job.jobId,
      };
    },
    '/v1/terminatejob': (input) => {
      const job = jobs.find((j) => j.jobId === input.jobId);
      if (!job) throw new Error(`job ${String(input.jobId)} does not exist`);
      const reason = String(input.reason ?? 'terminated');
      if (typeof options.runner === 'object') options.runner.terminate(job, reason);
      else [job.status, job.statusReason] = ['FAILED', reason];
      return {};
    },
    '/v1/registerjobdefinition': (input) => {
      const name = String(input.jobDefinitionName ?? '');
      if (!/^[A-Za-z0-9_-]{1,128}$/.test(name)) throw new Error(`jobDefinitionName "${name}" is not valid`);
      const revision = definitions.filter((d) => d.input.jobDefinitionName === name).length + 1;
      const jobDefinitionArn = `arn:aws:batch:eu-central-1:000000000000:job-definition/${name}:${revision}`;
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
  return { jobs, jobDefinitions: definitions, stop: () => close(server) };
}
