import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { jobResultKey } from '../../../lambda/shared/bucket-layout';
import { JobManifest } from '../../../lambda/shared/jobs/job-manifest';
import { ResultRecord, signResult } from '../../../lambda/shared/jobs/result-record';
import { algorithmRunArgs, ContainerEngine, removeContainer } from './container-engine';
import { stageIn } from './stage-in';
import { stageOut } from './stage-out';
import { LogLine, supervise } from './supervise';

export interface LocalJob {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly manifestKey: string;
  readonly resultSigningKey: string;
  readonly engine: ContainerEngine;
  /** Seconds between SIGTERM and SIGKILL at the time limit. */
  readonly graceSeconds: number;
  readonly onLine: (line: LogLine) => void;
  /** Called with a function that stops the algorithm at once (TerminateJob). */
  readonly onStarted?: (stop: () => void) => void;
}

/**
 * Runs one job the way the runner does in the cloud, with a local container engine: inputs
 * placed in a private folder, the image run unchanged with no network and read-only /input,
 * outputs stored after exit code 0, and the signed result record written last.
 */
export interface LocalRun {
  readonly record: ResultRecord;
  /** Seconds spent placing the inputs, in the container, and storing outputs and the record. */
  readonly timings: { readonly stageIn: number; readonly container: number; readonly stageOut: number };
}

export async function runJobLocally(job: LocalJob): Promise<LocalRun> {
  const manifestObject = await job.s3.send(
    new GetObjectCommand({ Bucket: job.bucket, Key: job.manifestKey }),
  );
  const manifest = JSON.parse(await manifestObject.Body!.transformToString()) as JobManifest;
  // A folder only root can enter; the algorithm sees its two subfolders, mounted.
  const work = await fs.promises.mkdtemp(path.join(os.tmpdir(), `job-${manifest.jobId}-`));
  const inputDir = path.join(work, 'input');
  const outputDir = path.join(work, 'output');
  try {
    await fs.promises.mkdir(inputDir, { mode: 0o755 });
    await fs.promises.mkdir(outputDir);
    // Whatever user the image runs as may write its outputs.
    await fs.promises.chmod(outputDir, 0o777);
    const clock = performance.now();
    await stageIn(job.s3, job.bucket, manifest, inputDir);
    await makeReadable(inputDir);
    const stagedIn = performance.now();

    const name = `job-${manifest.jobId}`;
    const child = spawn(
      job.engine.command,
      algorithmRunArgs(job.engine, {
        name,
        image: manifest.image,
        inputDir,
        outputDir,
        memoryGb: manifest.memoryGb,
      }),
      { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } },
    );
    const stop = (seconds: number) => () =>
      spawnSync(job.engine.command, ['stop', '--time', String(seconds), name], { stdio: 'ignore' });
    job.onStarted?.(stop(0));
    const run = await supervise(child, {
      timeLimitSeconds: manifest.timeLimitSeconds,
      graceSeconds: job.graceSeconds,
      terminate: () => void spawn(job.engine.command, ['stop', '--time', String(job.graceSeconds), name]),
      kill: stop(0),
      onLine: job.onLine,
    });
    const { oomKilled } = await removeContainer(job.engine, name);
    const ran = performance.now();
    const returnCode = oomKilled ? 137 : run.exitCode;
    const stored =
      returnCode === 0 && !run.timedOut
        ? await stageOut(job.s3, job.bucket, manifest.jobId, outputDir)
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
      outputs: stored.outputs,
    };
    await job.s3.send(
      new PutObjectCommand({
        Bucket: job.bucket,
        Key: jobResultKey(manifest.jobId),
        ContentType: 'application/json',
        Body: signResult(record, job.resultSigningKey),
      }),
    );
    const seconds = (from: number, to: number) => (to - from) / 1000;
    return {
      record,
      timings: {
        stageIn: seconds(clock, stagedIn),
        container: seconds(stagedIn, ran),
        stageOut: seconds(ran, performance.now()),
      },
    };
  } finally {
    await fs.promises.rm(work, { recursive: true, force: true });
  }
}

/** Inputs readable by any user the image may run as; the folder above stays closed. */
async function makeReadable(dir: string): Promise<void> {
  for (const entry of await fs.promises.readdir(dir, { withFileTypes: true })) {
    const target = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      await fs.promises.chmod(target, 0o755);
      await makeReadable(target);
    } else {
      await fs.promises.chmod(target, 0o644);
    }
  }
}
