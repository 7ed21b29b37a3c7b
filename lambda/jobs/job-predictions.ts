import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { badRequest, conflict, notFound } from '../api/api-error';
import { jobManifestKey, jobPredictionKey } from '../contracts/bucket-layout';
import { pinnedObject } from '../core/object-copy';
import { getImage } from '../images/image-store';
import { JobManifest, ManifestInput } from './job-manifest';
import { getJob } from './job-store';
import { ManifestPrediction, predictionOutputFolder } from './predictions-json';
import { MAX_PREDICTIONS } from './schemas';

/**
 * The jobs a new job evaluates, as grand-challenge gives an evaluation the successful jobs of a
 * submission: each must be a Succeeded job of the caller whose image outputs are converted. Each
 * output is placed at `/input/<job id>/output/<relative path>`: a JSON value written as it was
 * read, a file copied from what the job stored, an image as its converted file (as grand-challenge
 * gives the image it imported). Copies are pinned to the objects as they are now and go under the
 * new job's inputs, where the staging job puts them. Refuses, naming the job, anything else.
 */
export async function placePredictions(
  s3: S3Client,
  bucket: string,
  jobId: string,
  predictionIds: readonly string[],
  userId: string,
  inputs: readonly ManifestInput[],
): Promise<ManifestPrediction[]> {
  if (predictionIds.length > MAX_PREDICTIONS) {
    throw badRequest(
      `predictions names ${predictionIds.length} jobs; at most ${MAX_PREDICTIONS} may be given`,
    );
  }
  const repeated = predictionIds.find((id, i) => predictionIds.indexOf(id) !== i);
  if (repeated) throw badRequest(`job ${repeated} is given twice in predictions`);
  for (const input of inputs) {
    const first = input.path.split('/')[0];
    if (input.path === 'predictions.json' || predictionIds.includes(first)) {
      throw badRequest(
        `input "${input.socket.slug}" would be placed at /input/${input.path}, where the predictions go`,
      );
    }
  }
  const read = await Promise.all(predictionIds.map((id) => readPrediction(s3, bucket, id, userId)));
  // Each copy's place under the new job's inputs, by its position among all predictions' copies.
  let position = 0;
  return read.map((prediction) => ({
    ...prediction,
    outputs: prediction.outputs.map((output) =>
      output.source ? { ...output, key: jobPredictionKey(jobId, position++) } : output,
    ),
  }));
}

/** Whether the staging job has files of the predictions to copy. */
export function hasPredictionCopies(predictions: readonly ManifestPrediction[]): boolean {
  return predictions.some((prediction) => prediction.outputs.some((output) => output.source));
}

async function readPrediction(
  s3: S3Client,
  bucket: string,
  id: string,
  userId: string,
): Promise<ManifestPrediction> {
  const job = await getJob(id);
  // Only the caller's own jobs: another user's inputs and images are not the caller's to read.
  if (!job || job.owner !== userId) throw notFound(`job ${id} named in predictions`);
  if (job.status !== 'Succeeded') {
    throw conflict(`job ${id} named in predictions is ${job.status}; only Succeeded jobs can be predictions`);
  }
  const manifest = await readManifest(s3, bucket, id);
  const folder = predictionOutputFolder(id);
  const outputs: ManifestInput[] = [];
  for (const socket of manifest.interface.outputs) {
    const output = job.outputs.find((o) => o.socket === socket.slug);
    const what = `output "${socket.slug}" of job ${id} named in predictions`;
    if (!output) throw conflict(`${what} was not stored`);
    if (socket.kind === 'image') {
      const image = output.image === undefined ? undefined : await getImage(output.image);
      if (!image || image.status !== 'Succeeded' || !image.outputKey) {
        throw conflict(
          `${what} is image ${output.image ?? '(none)'}, which is ${image?.status ?? 'missing'}; it can be a prediction once converted`,
        );
      }
      const name = image.outputKey.slice(image.outputKey.lastIndexOf('/') + 1);
      outputs.push({
        socket,
        path: `${folder}${socket.relativePath.replace(/\/+$/, '')}/${name}`,
        source: await pinned(s3, bucket, image.outputKey, what),
        image: { pk: image.id, name: image.name },
      });
    } else if (output.key === undefined) {
      outputs.push({ socket, path: `${folder}${socket.relativePath}`, value: output.value });
    } else {
      outputs.push({
        socket,
        path: `${folder}${socket.relativePath}`,
        source: await pinned(s3, bucket, output.key, what),
      });
    }
  }
  return {
    jobId: id,
    algorithmVersionId: job.algorithmVersionId,
    image: job.image,
    ...(job.startedAt && { startedAt: job.startedAt }),
    ...(job.stoppedAt && { stoppedAt: job.stoppedAt }),
    // Listed as the job saw them; what it read them from is not this job's.
    inputs: manifest.inputs.map(({ socket, path, value, image, file }) => ({
      socket,
      path,
      ...(value !== undefined && { value }),
      ...(image && { image }),
      ...(file !== undefined && { file }),
    })),
    outputs,
  };
}

async function readManifest(s3: S3Client, bucket: string, id: string): Promise<JobManifest> {
  const object = await s3
    .send(new GetObjectCommand({ Bucket: bucket, Key: jobManifestKey(id) }))
    .catch((err: Error) => {
      if (err.name === 'NoSuchKey') throw conflict(`the manifest of job ${id} named in predictions is gone`);
      throw err;
    });
  return JSON.parse(await object.Body!.transformToString()) as JobManifest;
}

async function pinned(s3: S3Client, bucket: string, key: string, what: string) {
  const source = await pinnedObject(s3, bucket, key);
  if (!source) throw conflict(`the stored file of ${what} is gone`);
  return source;
}
