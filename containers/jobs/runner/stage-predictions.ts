import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isContainedPath, JobManifest } from '../../../lambda/jobs/job-manifest';
import { predictionOutputFolder, predictionsJson } from '../../../lambda/jobs/predictions-json';

/**
 * Places the outputs of the jobs a job evaluates as grand-challenge places them for an
 * evaluation: each at `<inputDir>/<job id>/output/<relative path>` (JSON values as JSON, files and
 * converted images as copied), and the list of those jobs at `<inputDir>/predictions.json`.
 * Nothing when the job evaluates none. Reads only copies under the job's own inputs.
 */
export async function stagePredictions(
  s3: S3Client,
  bucket: string,
  manifest: JobManifest,
  inputDir: string,
): Promise<void> {
  if (!manifest.predictions || manifest.predictions.length === 0) return;
  for (const prediction of manifest.predictions) {
    for (const output of prediction.outputs) {
      const what = `output "${output.socket.slug}" of job ${prediction.jobId}`;
      if (
        !isContainedPath(output.path) ||
        !output.path.startsWith(predictionOutputFolder(prediction.jobId))
      ) {
        throw new Error(`${what} has a path outside its job's folder: ${output.path}`);
      }
      const target = path.join(inputDir, output.path);
      await fs.promises.mkdir(path.dirname(target), { recursive: true });
      if (output.key === undefined) {
        await fs.promises.writeFile(target, JSON.stringify(output.value ?? null), { flag: 'wx' });
        continue;
      }
      if (!output.key.startsWith(`jobs/${manifest.jobId}/inputs/`)) {
        throw new Error(`${what} names an object outside the job: ${output.key}`);
      }
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: output.key }));
      await pipeline(object.Body as Readable, fs.createWriteStream(target, { flags: 'wx' }));
    }
  }
  await fs.promises.writeFile(
    path.join(inputDir, 'predictions.json'),
    JSON.stringify(predictionsJson(manifest.predictions)),
    { flag: 'wx' },
  );
}
