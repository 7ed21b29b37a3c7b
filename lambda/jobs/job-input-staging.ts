import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { IMAGES_PREFIX, jobInputsPrefix, jobManifestKey, UPLOADS_PREFIX } from '../contracts/bucket-layout';
import { copyObject } from '../core/object-copy';
import { JobManifest } from './job-manifest';
import { stagePredictionFiles } from './prediction-staging';
import { stageJobModel } from './job-model';

/**
 * The staging job's part of a job, before the algorithm's Batch job may start: copies each file
 * input from the object its manifest pinned at submission to `jobs/<id>/inputs/`, the only place
 * the job runner reads inputs from, inside S3 and in parts when large (any size S3 takes). Copies
 * only from images and uploads, and only into the job's own inputs, whatever the manifest says.
 * Returns the bytes copied.
 */
export async function stageJobInputs(
  s3: S3Client,
  bucket: string,
  jobId: string,
  options: { readonly partBytes?: number } = {},
): Promise<number> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: jobManifestKey(jobId) }));
  const manifest = JSON.parse(await object.Body!.transformToString()) as JobManifest;
  if (manifest.jobId !== jobId) throw new Error(`the manifest of job ${jobId} names job ${manifest.jobId}`);
  let bytes = 0;
  for (const { socket, key, source } of manifest.inputs) {
    if (!source) continue;
    if (!key?.startsWith(jobInputsPrefix(jobId))) {
      throw new Error(`input "${socket.slug}" would be copied outside the job's inputs: ${key}`);
    }
    if (![IMAGES_PREFIX, UPLOADS_PREFIX].some((prefix) => source.key.startsWith(prefix))) {
      throw new Error(
        `input "${socket.slug}" would be copied from outside images and uploads: ${source.key}`,
      );
    }
    await copyObject(s3, { bucket, source, key, partBytes: options.partBytes });
    bytes += source.bytes;
  }
  bytes += await stagePredictionFiles(s3, bucket, manifest, options);
  return bytes + (await stageJobModel(s3, bucket, manifest, options));
}
