import { S3Client } from '@aws-sdk/client-s3';
import type { AlgorithmModelRef } from '../algorithms/algorithm-models';
import { ALGORITHMS_PREFIX, jobModelKey } from '../contracts/bucket-layout';
import { copyObject, CopySourceObject } from '../core/object-copy';
import type { JobManifest } from './job-manifest';

/**
 * The model a job runs with, as its manifest names it: the staging job copies `source` (the
 * algorithm's active model at submission) to `key` under the job's folder, and the runner
 * extracts that copy at /opt/ml/model once it hashes to `sha256`, within the counts that
 * validation found.
 */
export interface ManifestModel {
  readonly id: string;
  readonly sha256: string;
  readonly key: string;
  readonly source: CopySourceObject;
  readonly entries: number;
  readonly extractedBytes: number;
}

/** An algorithm's model as `modelObjectKey` names it: what a job's model may be copied from. */
const MODEL_SOURCE = new RegExp(`^${ALGORITHMS_PREFIX}[0-9a-f-]{36}/models/[0-9a-f-]{36}\\.tar\\.gz$`);

/** The manifest's model for a job of an algorithm with `active` as its model, if it has one. */
export function manifestModel(
  jobId: string,
  active: AlgorithmModelRef | undefined,
): ManifestModel | undefined {
  if (!active) return undefined;
  return {
    id: active.id,
    sha256: active.sha256,
    key: jobModelKey(jobId),
    source: { key: active.key, bytes: active.bytes },
    entries: active.entries,
    extractedBytes: active.extractedBytes,
  };
}

/**
 * The staging job's copy of the job's model, if its manifest names one: only from an algorithm's
 * models, only to the job's own model key. Returns the bytes copied.
 */
export async function stageJobModel(
  s3: S3Client,
  bucket: string,
  manifest: JobManifest,
  options: { readonly partBytes?: number } = {},
): Promise<number> {
  const { model } = manifest;
  if (!model) return 0;
  if (model.key !== jobModelKey(manifest.jobId)) {
    throw new Error(`model ${model.id} would be copied outside the job's folder: ${model.key}`);
  }
  if (!MODEL_SOURCE.test(model.source.key)) {
    throw new Error(
      `model ${model.id} would be copied from outside the algorithms' models: ${model.source.key}`,
    );
  }
  await copyObject(s3, { bucket, source: model.source, key: model.key, partBytes: options.partBytes });
  return model.source.bytes;
}
