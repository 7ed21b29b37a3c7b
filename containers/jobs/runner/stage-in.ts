import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { inputsJson } from '../../../lambda/jobs/inputs-json';
import { isContainedPath, JobManifest } from '../../../lambda/jobs/job-manifest';
import { stagePredictions } from './stage-predictions';

/**
 * Places a job's inputs as the contract says: each at `<inputDir>/<path>` (images in their
 * socket's folder under their own name, values as JSON, files as they were uploaded), and the
 * list of all of them at `<inputDir>/inputs.json`. Reads only the objects the manifest names.
 */
export async function stageIn(
  s3: S3Client,
  bucket: string,
  manifest: JobManifest,
  inputDir: string,
): Promise<void> {
  for (const input of manifest.inputs) {
    if (!isContainedPath(input.path) || input.path === 'inputs.json') {
      throw new Error(`input "${input.socket.slug}" has a path that leaves /input: ${input.path}`);
    }
    const target = path.join(inputDir, input.path);
    await fs.promises.mkdir(path.dirname(target), { recursive: true });
    if (input.key === undefined) {
      await fs.promises.writeFile(target, JSON.stringify(input.value ?? null), { flag: 'wx' });
      continue;
    }
    if (!input.key.startsWith(`jobs/${manifest.jobId}/inputs/`)) {
      throw new Error(`input "${input.socket.slug}" names an object outside the job: ${input.key}`);
    }
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: input.key }));
    await pipeline(object.Body as Readable, fs.createWriteStream(target, { flags: 'wx' }));
  }
  await fs.promises.writeFile(path.join(inputDir, 'inputs.json'), JSON.stringify(inputsJson(manifest)), {
    flag: 'wx',
  });
  await stagePredictions(s3, bucket, manifest, inputDir);
}
