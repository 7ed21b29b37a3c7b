import type { ImageFile } from './image-files';

export type ImageStatus = 'Queued' | 'Started' | 'Succeeded' | 'Failed';

/** An image as stored in the images table. */
export interface ImageRecord {
  readonly id: string;
  readonly owner: string;
  readonly name: string;
  readonly status: ImageStatus;
  /** What the status means right now, in words a user can act on. */
  readonly statusDetail: string;
  /** Uploads the image is made of; the files themselves are in the image files table (`image-files.ts`). */
  readonly fileCount?: number;
  /** The image whose file pages list this one's files: a sibling shares those of its set's first image. */
  readonly filesOf?: string;
  /** The files, on an image stored before its files had pages of their own. */
  readonly files?: readonly ImageFile[];
  /** When the converted image's raw uploads were deleted and their bytes returned to the quota. */
  readonly uploadsRemovedAt?: string;
  /** Batches of 1,000 files whose uploads a removal deleted and counted back (`upload-removal.ts`). */
  readonly removedUploadBatches?: ReadonlySet<number>;
  /** For an image an algorithm made: the job's output file it is converted from, instead of uploads. */
  readonly jobOutput?: {
    readonly jobId: string;
    readonly key: string;
    readonly filename: string;
    readonly size: number;
    /** The data file a `.mhd` output's header names, stored beside it. */
    readonly dataFile?: { readonly key: string; readonly filename: string; readonly size: number };
  };
  readonly errors: readonly { filename: string; reason: string }[];
  readonly metadata: Readonly<Record<string, unknown>>;
  /** Key of the converted file in the imaging bucket, once conversion succeeded. */
  readonly outputKey?: string;
  /** Other images made from the same upload set (a set may hold several series). */
  readonly siblings?: readonly { id: string; name: string }[];
  /**
   * The AWS Batch job of the converter container that holds the image: once named, only that
   * job writes the conversion's outcome, so a repeated queue message cannot make two writers.
   */
  readonly converterJobId?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export const QUEUED_DETAIL = 'Waiting for the converter to pick up the image';

/** Room an image's item keeps for what its conversion adds: errors, metadata, siblings, output key. */
export const IMAGE_ITEM_RESERVE_BYTES = 64 * 1024;

/** What the API shows of an image, with its files; the download URL is added by the caller when permitted. */
export function imageView(
  record: ImageRecord,
  files: readonly ImageFile[],
  download?: { url: string; expiresAt: string },
) {
  return {
    id: record.id,
    name: record.name,
    status: record.status,
    statusDetail: record.statusDetail,
    files,
    errors: record.errors,
    metadata: record.metadata,
    ...(record.siblings && record.siblings.length > 0 && { siblings: record.siblings }),
    ...(download && { downloadUrl: download.url, downloadUrlExpiresAt: download.expiresAt }),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}
