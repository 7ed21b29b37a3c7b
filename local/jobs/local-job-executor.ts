import { S3Client } from '@aws-sdk/client-s3';
import { ContainerEngine } from './container-engine';
import { decideImagePull } from '../iam/image-pull';
import type { LocalCredentials } from '../iam/local-credentials';
import type { LocalIam } from '../iam/local-iam';
import { runJobLocally } from './run-job-locally';
import { LogLine } from '../../containers/jobs/runner/supervise';
import type { BatchJobDetail } from '../../lambda/contracts/batch-job-state-change';
import { OUTPUT_LIMITS, RESULT_SIGNING, WRITABLE_ROOT } from '../../lambda/contracts/job-runner';
import { AlgorithmJobRunner, LocalBatchJob, LocalJobDefinition } from '../services/batch';
import { afterFailedAttempt, HOST_LOST_REASON } from '../services/batch-retry';
import { LocalLogStreams, LogLimits } from '../services/log-streams';

export interface LocalJobExecutor extends AlgorithmJobRunner {
  /** The container engine's command. */
  readonly engine: string;
  /** The lines each job's algorithm wrote, by Batch job id, as far as the log limits keep them. */
  readonly logs: Pick<LocalLogStreams<LogLine>, 'get' | 'keptBytes'>;
  /** Resolves when every job submitted so far has ended and its events were delivered. */
  idle(): Promise<void>;
}

/**
 * Runs jobs submitted to the local Batch one at a time with the job runner and a container
 * engine, and sends each state change, as Batch would, to `onEvent` (the state handler). When the
 * host is lost (local mode stops), the job under way ends its attempt as a terminated instance's
 * does: its container is stopped and removed, its runner reaches nothing more, and the job goes
 * back to RUNNABLE or fails as its retry strategy says. As on Batch, the job definition's
 * execution role must be able to pull the job's image (the job fails with CannotPullContainerError
 * otherwise), and the runner acts with the definition's job role.
 */
export function localJobExecutor(options: {
  /** An S3 client acting with `credentials`. */
  readonly s3: (credentials: LocalCredentials) => S3Client;
  readonly iam: LocalIam;
  /** The registered job definition that a job names. */
  readonly jobDefinition: (name: string) => LocalJobDefinition | undefined;
  readonly bucket: string;
  readonly engine: ContainerEngine;
  readonly graceSeconds: number;
  readonly onEvent: (detail: BatchJobDetail) => Promise<void>;
  /** @default LOCAL_LOG_LIMITS */
  readonly logLimits?: LogLimits;
}): LocalJobExecutor {
  const logs = new LocalLogStreams<LogLine>(options.logLimits);
  const stops = new Map<string, () => void>();
  const cancelled = new Set<string>();
  let chain = Promise.resolve();
  let hostLost = false;
  // Once the host is lost, the runner's calls reach nothing, as a terminated instance's do.
  const untilHostLost = (client: S3Client) =>
    new Proxy(client, {
      get: (target, property, receiver) =>
        property === 'send'
          ? (...args: Parameters<S3Client['send']>) =>
              hostLost ? Promise.reject(new Error('the host was lost')) : target.send(...args)
          : Reflect.get(target, property, receiver),
    });

  const emit = async (job: LocalBatchJob, change: Partial<BatchJobDetail>) => {
    job.status = change.status ?? job.status;
    job.statusReason = change.statusReason;
    try {
      await options.onEvent({
        jobId: job.jobId,
        jobName: job.jobName,
        jobQueue: job.jobQueue,
        status: job.status,
        attempts: job.attempts,
        ...change,
      });
    } catch (err) {
      console.error(`local Batch: the state handler failed on ${job.jobName}: ${(err as Error).message}`);
    }
  };

  const run = async (job: LocalBatchJob) => {
    if (cancelled.has(job.jobId)) {
      await emit(job, { status: 'FAILED', statusReason: 'terminated before it started' });
      return;
    }
    const manifest = job.parameters.inputManifest?.match(/^s3:\/\/[^/]+\/(.+)$/)?.[1];
    await emit(job, { status: 'STARTING' });
    const container = options.jobDefinition(job.jobDefinition)?.input.containerProperties as
      { image: string; jobRoleArn: string; executionRoleArn: string } | undefined;
    if (!container) {
      await emit(job, {
        status: 'FAILED',
        statusReason: `job definition ${job.jobDefinition} is not active`,
      });
      return;
    }
    const region = options.iam.access.names.region;
    const pull = await decideImagePull(options.iam, container.executionRoleArn, container.image, region);
    if (!pull.allowed) {
      const reason = `CannotPullContainerError: AccessDeniedException: ${pull.message}`;
      await emit(job, { status: 'FAILED', statusReason: reason, container: { reason } });
      return;
    }
    const s3 = untilHostLost(options.s3(options.iam.credentials.forRole(container.jobRoleArn, job.jobId)));
    const startedAt = Date.now();
    // As on Batch, the container's log stream exists, and is named, from RUNNING on.
    logs.create(job.jobId);
    await emit(job, { status: 'RUNNING', startedAt, container: { logStreamName: job.jobId } });
    try {
      if (!manifest) throw new Error('the job has no inputManifest parameter');
      const { record } = await runJobLocally({
        s3,
        bucket: options.bucket,
        manifestKey: manifest,
        resultSigningKey: RESULT_SIGNING.parse(job.environment).resultSigningKey,
        outputLimits: OUTPUT_LIMITS.parse(job.environment),
        writableRootBytes: WRITABLE_ROOT.parse(job.environment).writableRootBytes,
        engine: options.engine,
        graceSeconds: options.graceSeconds,
        onLine: (line) => logs.append(job.jobId, line),
        onStarted: (stop) => {
          stops.set(job.jobId, stop);
          // A job terminated while it was starting stops as soon as its container runs.
          if (hostLost || cancelled.has(job.jobId)) stop();
        },
      });
      if (hostLost) throw new Error('the host was lost');
      await emit(job, {
        status: 'SUCCEEDED',
        startedAt,
        stoppedAt: Date.now(),
        container: {
          exitCode: 0,
          logStreamName: job.jobId,
          reason: `algorithm exited with ${record.returnCode}`,
        },
      });
    } catch (err) {
      if (hostLost) {
        await endLostAttempt(job, { startedAt, stoppedAt: Date.now() });
        return;
      }
      await emit(job, {
        status: 'FAILED',
        statusReason: `the job runner failed: ${(err as Error).message}`,
        startedAt,
        stoppedAt: Date.now(),
        container: { exitCode: 1, logStreamName: job.jobId },
      });
    } finally {
      stops.delete(job.jobId);
      s3.destroy();
    }
  };

  /** As Batch ends an attempt whose instance was terminated: retried while its strategy allows. */
  const endLostAttempt = async (job: LocalBatchJob, times: { startedAt: number; stoppedAt: number }) => {
    const attempt = { statusReason: HOST_LOST_REASON, container: { logStreamName: job.jobId }, ...times };
    const next = afterFailedAttempt(job.retryStrategy, job.attempts.length + 1, attempt);
    job.attempts.push(attempt);
    await emit(
      job,
      next === 'RETRY' ? { status: 'RUNNABLE' } : { status: 'FAILED', statusReason: HOST_LOST_REASON },
    );
  };

  return {
    engine: options.engine.command,
    logs,
    submit(job) {
      // Batch takes the job first and reports its state afterwards.
      chain = chain.then(async () => {
        if (hostLost) return;
        await emit(job, { status: 'RUNNABLE' });
        await run(job);
      });
    },
    terminate(job, reason) {
      cancelled.add(job.jobId);
      job.statusReason = reason;
      stops.get(job.jobId)?.();
    },
    async loseHost() {
      hostLost = true;
      for (const stop of stops.values()) stop();
      await chain;
    },
    idle: () => chain,
  };
}
