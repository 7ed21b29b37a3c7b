import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { jobResultKey } from '../../../lambda/contracts/bucket-layout';
import { JobManifest } from '../../../lambda/jobs/job-manifest';
import { ResultRecord, signResult } from '../../../lambda/jobs/result-record';
import { RunnerRefusal } from './runner-refusal';
import { stageIn } from './stage-in';
import { stageModel } from './stage-model';
import { OutputLimits, stageOut } from './stage-out';
import { LogLine, supervise, Supervised } from './supervise';

/** A started algorithm, and how to stop it. */
export interface StartedAlgorithm {
  readonly child: ChildProcess;
  terminate(): void;
  kill(): void;
  /**
   * Why the algorithm could not be started as the image's user, once the process ended, when the
   * launcher said so on its own channel rather than the algorithm's output.
   */
  launchFailure?(): string | undefined;
  /**
   * A limit the algorithm ran into that its exit code does not tell (its writable root full),
   * once its exit code is known; the job then ends with this reason and stores nothing.
   */
  limitReached?(returnCode: number): string | undefined;
}

/** How the algorithm is started where the runner runs: a container engine locally, a launcher on Batch. */
export interface AlgorithmLauncher {
  start(): StartedAlgorithm | Promise<StartedAlgorithm>;
  /** The exit code as the contract reads it, once the process ended (137 when memory ran out). */
  exitCode(observed: number): Promise<number>;
}

export interface Job {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly manifest: JobManifest;
  readonly resultSigningKey: string;
  /** Folders the algorithm sees as /input and /output; they must be empty. */
  readonly inputDir: string;
  readonly outputDir: string;
  /** The folder the algorithm sees as /opt/ml/model, empty; a runner without one takes no job with a model. */
  readonly modelDir?: string;
  readonly launcher: AlgorithmLauncher;
  /** Seconds between SIGTERM and SIGKILL at the time limit. */
  readonly graceSeconds: number;
  readonly outputLimits: OutputLimits;
  readonly onLine: (line: LogLine) => void;
  /** Called with a function that stops the algorithm at once (TerminateJob). */
  readonly onStarted?: (stop: () => void) => void;
}

export interface JobRun {
  readonly record: ResultRecord;
  /** Seconds spent placing the inputs, running the algorithm with its clean-up, and storing outputs and the record. */
  readonly timings: { readonly stageIn: number; readonly container: number; readonly stageOut: number };
}

/**
 * The job runner's part of a job, wherever it runs: inputs placed as the contract says, the
 * algorithm started and held to its time limit (SIGTERM, then SIGKILL after the grace period),
 * outputs stored after exit code 0 only, and the result record signed with the job's key
 * written last.
 */
export async function runJob(job: Job): Promise<JobRun> {
  const { manifest } = job;
  const clock = performance.now();
  let run: Supervised | undefined;
  let returnCode = -1;
  try {
    await stageIn(job.s3, job.bucket, manifest, job.inputDir);
    await makeReadable(job.inputDir);
    await stageModel(job.s3, job.bucket, manifest, job.modelDir);
    // Whatever user the image runs as may write its outputs.
    await fs.promises.chmod(job.outputDir, 0o777);
    const stagedIn = performance.now();

    const started = await job.launcher.start();
    job.onStarted?.(started.kill);
    run = await supervise(started.child, {
      timeLimitSeconds: manifest.timeLimitSeconds,
      graceSeconds: job.graceSeconds,
      terminate: started.terminate,
      kill: started.kill,
      onLine: job.onLine,
    });
    const launchFailure = started.launchFailure?.();
    if (launchFailure !== undefined) throw new RunnerRefusal(launchFailure);
    returnCode = await job.launcher.exitCode(run.exitCode);
    const limitReached = started.limitReached?.(returnCode);
    const ran = performance.now();

    const stored =
      returnCode === 0 && !run.timedOut && limitReached === undefined
        ? await stageOut(job.s3, job.bucket, manifest.jobId, job.outputDir, job.outputLimits, {
            imageOutputs: manifest.interface.outputs.filter((socket) => socket.kind === 'image'),
          })
        : { outputs: [], ignored: [] };
    for (const file of stored.ignored) {
      job.onLine({
        source: 'stderr',
        message: `[platform] /output/${file.path} was not stored: ${file.reason}`,
        timestamp: Date.now(),
      });
    }
    const record: ResultRecord = {
      jobId: manifest.jobId,
      returnCode,
      execDuration: Math.round(run.seconds * 1000) / 1000,
      timedOut: run.timedOut,
      ...(run.lastStderrLine !== undefined && { lastStderrLine: run.lastStderrLine }),
      ...(limitReached !== undefined && { limitReached }),
      outputs: stored.outputs,
    };
    await writeRecord(job, record);
    const seconds = (from: number, to: number) => (to - from) / 1000;
    return {
      record,
      timings: {
        stageIn: seconds(clock, stagedIn),
        container: seconds(stagedIn, ran),
        stageOut: seconds(ran, performance.now()),
      },
    };
  } catch (err) {
    // The runner's own failure is the job's reason, in its record and its log, never the algorithm's.
    const runnerFailure =
      err instanceof RunnerRefusal ? err.message : `the job runner failed: ${(err as Error).message}`;
    job.onLine({ source: 'stderr', message: `[platform] ${runnerFailure}`, timestamp: Date.now() });
    await writeRecord(job, {
      jobId: manifest.jobId,
      returnCode,
      execDuration: run ? Math.round(run.seconds * 1000) / 1000 : 0,
      timedOut: run?.timedOut ?? false,
      outputs: [],
      runnerFailure,
    }).catch(() => undefined);
    throw err;
  }
}

/** The signed result record, written last: the state handler ends the job on it. */
async function writeRecord(job: Job, record: ResultRecord): Promise<void> {
  await job.s3.send(
    new PutObjectCommand({
      Bucket: job.bucket,
      Key: jobResultKey(record.jobId),
      ContentType: 'application/json',
      Body: signResult(record, job.resultSigningKey),
    }),
  );
}

/** The manifest a job was submitted with. */
export async function readManifest(s3: S3Client, bucket: string, key: string): Promise<JobManifest> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return JSON.parse(await object.Body!.transformToString()) as JobManifest;
}

/** Inputs readable by any user the image may run as. */
async function makeReadable(dir: string): Promise<void> {
  await fs.promises.chmod(dir, 0o755);
  for (const entry of await fs.promises.readdir(dir, { withFileTypes: true })) {
    const target = path.join(dir, entry.name);
    if (entry.isDirectory()) await makeReadable(target);
    else await fs.promises.chmod(target, 0o644);
  }
}
