export type UploadStatus = 'Pending' | 'Completed' | 'Aborted';

/** An upload as stored in the uploads table. */
export interface UploadRecord {
  readonly id: string;
  readonly owner: string;
  readonly filename: string;
  readonly contentType?: string;
  readonly size: number;
  readonly partSize: number;
  readonly partCount: number;
  readonly objectKey: string;
  /** S3's id of the multipart upload. */
  readonly s3UploadId: string;
  readonly status: UploadStatus;
  readonly createdAt: string;
  readonly completedAt?: string;
  /** The image whose files this upload is, once claimed by `POST /v1/images`. */
  readonly imageId?: string;
  /** When `imageId` claimed it: a claim whose image was never made is abandoned after a minute. */
  readonly claimedAt?: string;
  /** The algorithm model made of this upload, which keeps the upload from becoming an image. */
  readonly modelId?: string;
  /**
   * The build whose context this upload is, from its start: it is queued when the upload
   * completes, cancelled when the upload is aborted, and the upload never becomes an image or a model.
   */
  readonly build?: { readonly algorithmId: string; readonly id: string };
  /**
   * Set when the raw file was removed and its bytes returned to the quota: `true`, or for an image's
   * upload the id of the removal that did it, which a removal that fails midway takes back.
   */
  readonly rawDeleted?: boolean | string;
}

/** What the API shows of an upload: nothing of where or how it is stored. */
export function uploadView(record: UploadRecord) {
  return {
    id: record.id,
    filename: record.filename,
    size: record.size,
    ...(record.contentType && { contentType: record.contentType }),
    partSize: record.partSize,
    partCount: record.partCount,
    status: record.status,
    createdAt: record.createdAt,
    ...(record.completedAt && { completedAt: record.completedAt }),
  };
}
