import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import {
  emptyExtracted,
  extractModelArchive,
  ModelArchiveRefusal,
} from '../../../lambda/algorithms/model-archive';
import { jobModelKey } from '../../../lambda/contracts/bucket-layout';
import { JobManifest } from '../../../lambda/jobs/job-manifest';
import { RunnerRefusal } from './runner-refusal';

/** Where an algorithm finds its model, as SageMaker places it for grand-challenge. */
export const MODEL_PATH = '/opt/ml/model';

/**
 * Places the job's model, if its manifest names one, in `modelDir` (the algorithm's
 * /opt/ml/model): the staging job's copy under the job's folder, extracted with the checks its
 * validation made, only if it hashes to the SHA-256 it was validated with, and within the
 * entries and bytes validation counted; files and folders lose their write bits. A model that
 * fails any of this fails the job with a reason naming it. Whatever was in the folder first goes:
 * on AWS it is a volume, which Docker seeds with what the image has at that path. Without a model
 * the folder is left as it is, so the image's own files there show, as on grand-challenge.
 */
export async function stageModel(
  s3: S3Client,
  bucket: string,
  manifest: JobManifest,
  modelDir: string | undefined,
): Promise<void> {
  const { model } = manifest;
  if (modelDir === undefined) {
    if (model) throw new RunnerRefusal(`model ${model.id} has no place to go in this runner`);
    return;
  }
  if (!model) return;
  await emptyExtracted(modelDir);
  if (model.key !== jobModelKey(manifest.jobId)) {
    throw new RunnerRefusal(`model ${model.id} is not in the job's folder: ${model.key}`);
  }
  const object = await s3
    .send(new GetObjectCommand({ Bucket: bucket, Key: model.key }))
    .catch((err: Error) => {
      throw new RunnerRefusal(`model ${model.id} could not be read: ${err.message}`);
    });
  try {
    await extractModelArchive(
      object.Body as Readable,
      modelDir,
      {
        entries: model.entries,
        extractedBytes: model.extractedBytes,
        names: { entries: 'counted when it was validated', extractedBytes: 'counted when it was validated' },
      },
      model.sha256,
    );
  } catch (err) {
    if (err instanceof ModelArchiveRefusal) throw new RunnerRefusal(`model ${model.id}: ${err.message}`);
    throw new RunnerRefusal(
      `model ${model.id} could not be placed at ${MODEL_PATH}: ${(err as Error).message}`,
    );
  }
}
