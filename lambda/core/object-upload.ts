import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { pipeline, Readable, Transform } from 'node:stream';
import { partSizeFor } from '../contracts/s3-limits';

/** Parts of 8 MiB unless an object needs larger ones, as the AWS CLI cuts its uploads. */
export const UPLOAD_PART_BYTES = 8 * 1024 ** 2;

/** Parts sent at once: a streamed upload holds at most this many parts, and one more, in memory. */
const PARTS_IN_FLIGHT = 4;

export interface ObjectUpload {
  readonly bucket: string;
  readonly key: string;
  /** A stream is read as its parts are sent; a buffer is sent in slices of itself. */
  readonly body: Readable | Buffer;
  /** The body's length: a stream that ends short of it, or runs past it, fails the upload. */
  readonly bytes: number;
  /** @default - S3's default */
  readonly contentType?: string;
  /**
   * Part size, grown when the object would need more than 10,000 parts; 5 MiB to 5 GiB.
   * @default UPLOAD_PART_BYTES
   */
  readonly partBytes?: number;
}

/**
 * Stores a body of any size S3 takes (up to 5 TiB): one PutObject when it fits in one part, else a
 * multipart upload (`@aws-sdk/lib-storage`) whose parts are read from the body only as they are
 * sent. A multipart upload that fails is aborted, so none of its parts stay behind; what a crash
 * leaves, the bucket's lifecycle rule aborts.
 */
export async function uploadObject(s3: S3Client, upload: ObjectUpload): Promise<void> {
  await new Upload({
    client: s3,
    params: {
      Bucket: upload.bucket,
      Key: upload.key,
      Body: upload.body instanceof Readable ? ofLength(upload.body, upload.bytes) : upload.body,
      ContentLength: upload.bytes,
      ...(upload.contentType !== undefined && { ContentType: upload.contentType }),
    },
    partSize: partSizeFor(upload.bytes, upload.partBytes ?? UPLOAD_PART_BYTES),
    queueSize: PARTS_IN_FLIGHT,
    leavePartsOnError: false,
  }).done();
}

/**
 * The stream, failing when it runs past `bytes` or ends short of it: before its last part is sent,
 * so the upload is aborted rather than completed with other bytes than stated.
 */
function ofLength(body: Readable, bytes: number): Readable {
  let seen = 0;
  const checked = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      callback(seen > bytes ? new Error(`the body runs past the ${bytes} bytes stated`) : null, chunk);
    },
    flush(callback) {
      callback(seen < bytes ? new Error(`the body ended after ${seen} of the ${bytes} bytes stated`) : null);
    },
  });
  // An error of the body ends `checked` with it.
  pipeline(body, checked, () => undefined);
  return checked;
}
