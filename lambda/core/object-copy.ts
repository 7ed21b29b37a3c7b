import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { partSizeFor } from '../contracts/s3-limits';

/** Parts of 8 MiB unless an object needs larger ones, as the AWS CLI cuts its copies. */
export const COPY_PART_BYTES = 8 * 1024 ** 2;

/** Part copies under way at once; S3 copies each part itself, so this bounds requests, not memory. */
const PARTS_IN_FLIGHT = 10;

/** The stored object a copy reads. */
export interface CopySourceObject {
  readonly key: string;
  /** The version read, in a bucket that keeps versions: the copy is of it even if the key changed since. */
  readonly versionId?: string;
  readonly bytes: number;
  /** Each part is copied only while the source still has this ETag, so no copy mixes two objects. */
  readonly etag?: string;
}

/**
 * An object as it is now, as a copy source: its version (in a bucket that keeps versions), size
 * and ETag, so that a later copy reads exactly this even if the key is replaced. Undefined when
 * there is no such object.
 */
export async function pinnedObject(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<CopySourceObject | undefined> {
  try {
    const stored = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return {
      key,
      bytes: stored.ContentLength!,
      ...(stored.ETag !== undefined && { etag: stored.ETag }),
      ...(stored.VersionId !== undefined && { versionId: stored.VersionId }),
    };
  } catch (err) {
    if ((err as Error).name === 'NotFound') return undefined;
    throw err;
  }
}

export interface ObjectCopy {
  readonly bucket: string;
  readonly source: CopySourceObject;
  /** Where the copy goes, in the same bucket. */
  readonly key: string;
  /**
   * Part size, grown when the object would need more than 10,000 parts; 5 MiB to 5 GiB.
   * @default COPY_PART_BYTES
   */
  readonly partBytes?: number;
}

/**
 * Copies an object of any size S3 takes (up to 5 TiB) inside S3: one CopyObject when it fits in
 * one part, else a multipart upload of UploadPartCopy ranges. A multipart copy that fails is
 * aborted, so none of its parts stay behind; what a crash leaves, the bucket's lifecycle rule aborts.
 */
export async function copyObject(s3: S3Client, copy: ObjectCopy): Promise<void> {
  const { bucket, source, key } = copy;
  const partSize = partSizeFor(source.bytes, copy.partBytes ?? COPY_PART_BYTES);
  const copySource = `${bucket}/${encodeURIComponent(source.key).replace(/%2F/g, '/')}${
    source.versionId !== undefined ? `?versionId=${encodeURIComponent(source.versionId)}` : ''
  }`;
  if (source.bytes <= partSize) {
    await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: key,
        CopySource: copySource,
        ...(source.etag !== undefined && { CopySourceIfMatch: source.etag }),
      }),
    );
    return;
  }

  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  try {
    const partCount = Math.ceil(source.bytes / partSize);
    const etags: string[] = new Array<string>(partCount);
    let next = 0;
    let failed = false;
    const copier = async () => {
      while (!failed && next < partCount) {
        const index = next++;
        const first = index * partSize;
        const last = Math.min(source.bytes, first + partSize) - 1;
        try {
          const { CopyPartResult } = await s3.send(
            new UploadPartCopyCommand({
              Bucket: bucket,
              Key: key,
              UploadId,
              PartNumber: index + 1,
              CopySource: copySource,
              CopySourceRange: `bytes=${first}-${last}`,
              ...(source.etag !== undefined && { CopySourceIfMatch: source.etag }),
            }),
          );
          etags[index] = CopyPartResult!.ETag!;
        } catch (err) {
          // No further part starts; those under way end before the upload is aborted.
          failed = true;
          throw err;
        }
      }
    };
    const outcomes = await Promise.allSettled(
      Array.from({ length: Math.min(PARTS_IN_FLIGHT, partCount) }, copier),
    );
    const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failure) throw failure.reason;
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, index) => ({ ETag, PartNumber: index + 1 })) },
      }),
    );
  } catch (err) {
    await s3
      .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId }))
      .catch((abortError: Error) => {
        if (err instanceof Error && err.cause === undefined) err.cause = abortError;
      });
    throw err;
  }
}
