// The job runner as the ENTRYPOINT of an algorithm image on AWS Batch (the layer added to the
// author's image when its version is built): `runner --manifest s3://<bucket>/jobs/<id>/inputs.json`.
// Runs as root; starts the algorithm through launch-algorithm.js as the image's own user. Writes
// the algorithm's output as JSON lines `{ source, message }`, which the log driver ships.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import {
  OUTPUT_LIMITS,
  RESULT_SIGNING,
  RUNNER_GRACE,
  RUNNER_LAYER,
  WRITABLE_ROOT,
} from '../../../lambda/contracts/job-runner';
import { s3 as s3Client } from '../../../lambda/core/aws-clients';
import { LAUNCH_FAILURE_FD } from './algorithm-identity';
import { readManifest, runJob } from './run-job';
import { RunnerRefusal } from './runner-refusal';
import { writableRootLimitReached } from './writable-root';
import { MODEL_PATH } from './stage-model';

async function main(): Promise<void> {
  const manifestUri = process.argv[process.argv.indexOf('--manifest') + 1] ?? '';
  const location = /^s3:\/\/([^/]+)\/(jobs\/[0-9a-f-]{36}\/inputs\.json)$/.exec(manifestUri);
  if (!location)
    throw new Error(
      `--manifest must name a job manifest (s3://<bucket>/jobs/<id>/inputs.json), got "${manifestUri}"`,
    );
  const [, bucket, key] = location;
  const { resultSigningKey } = RESULT_SIGNING.read();
  const { graceSeconds } = RUNNER_GRACE.read();
  const outputLimits = OUTPUT_LIMITS.read();
  const { writableRootBytes } = WRITABLE_ROOT.read();
  const layer = RUNNER_LAYER.read();
  const s3 = s3Client();
  const manifest = await readManifest(s3, bucket, key);
  const launcher = path.join(__dirname, 'launch-algorithm.js');
  for (const dir of ['/input', '/output', MODEL_PATH]) await fs.promises.mkdir(dir, { recursive: true });
  const { record } = await runJob({
    s3,
    bucket,
    manifest,
    resultSigningKey,
    inputDir: '/input',
    outputDir: '/output',
    modelDir: MODEL_PATH,
    graceSeconds,
    outputLimits,
    onLine: (line) => process.stdout.write(`${JSON.stringify(line)}\n`),
    launcher: {
      start: () => {
        // The launcher sees only what it needs: the image's program, user and environment.
        const env = RUNNER_LAYER.variables(layer);
        const [node, ...nodeArgs] = JSON.parse(layer.runnerNode) as string[];
        const child = spawn(node, [...nodeArgs, launcher], {
          env,
          stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
        });
        // The launcher's own channel (LAUNCH_FAILURE_FD): why it could not start the algorithm.
        let launchFailure = '';
        (child.stdio[LAUNCH_FAILURE_FD] as Readable).on('data', (chunk: Buffer) => {
          launchFailure += chunk.toString();
        });
        return {
          child,
          launchFailure: () => launchFailure.trim() || undefined,
          limitReached: (returnCode) => writableRootLimitReached(returnCode, writableRootBytes),
          terminate: () => child.kill('SIGTERM'),
          // As the container's first process, this ends every other process in it.
          kill: () => process.kill(-1, 'SIGKILL'),
        };
      },
      exitCode: async (observed) => observed,
    },
  });
  process.stdout.write(
    `${JSON.stringify({ source: 'runner', message: `result recorded: exit ${record.returnCode}` })}\n`,
  );
}

main().catch((err: Error) => {
  // A refusal is in the log already, as the runner's own reason; other failures are named here.
  if (err instanceof RunnerRefusal) process.exit(1);
  process.stdout.write(
    `${JSON.stringify({ source: 'runner', message: `the job runner failed: ${err.message}` })}\n`,
  );
  process.exit(1);
});
