import { S3Client } from '@aws-sdk/client-s3';
import { IMAGES_PREFIX, jobInputsPrefix, jobOutputsPrefix } from '../contracts/bucket-layout';
import { copyObject } from '../core/object-copy';
import { JobManifest } from './job-manifest';

/**
 * The staging job's part for the jobs a job evaluates: copies each output file its manifest pinned
 * (a stored output of that job, or the converted image of an image output) into the job's own
 * inputs, where the runner reads it. Copies only from those places, and only into the job's
 * inputs, whatever the manifest says. Returns the bytes copied.
 */
export async function stagePredictionFiles(
  s3: S3Client,
  bucket: string,
  manifest: JobManifest,
  options: { readonly partBytes?: number } = {},
): Promise<number> {
  let bytes = 0;
  for (const prediction of manifest.predictions ?? []) {
    for (const { socket, key, source } of prediction.outputs) {
      if (!source) continue;
      const what = `output "${socket.slug}" of job ${prediction.jobId}`;
      if (!key?.startsWith(jobInputsPrefix(manifest.jobId))) {
        throw new Error(`${what} would be copied outside the job's inputs: ${key}`);
      }
      if (
        ![IMAGES_PREFIX, jobOutputsPrefix(prediction.jobId)].some((prefix) => source.key.startsWith(prefix))
      ) {
        throw new Error(`${what} would be copied from outside its outputs and images: ${source.key}`);
      }
      await copyObject(s3, { bucket, source, key, partBytes: options.partBytes });
      bytes += source.bytes;
    }
  }
  return bytes;
}
