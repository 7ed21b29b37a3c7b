import { IMAGES_PREFIX, JOBS_PREFIX, UPLOADS_PREFIX } from '../../lambda/contracts/bucket-layout';
import { TableName } from '../../lambda/contracts/tables';
import { TableAction } from '../data/api-tables';

/** Actions on objects of the imaging bucket that a handler may be granted. */
export type ImagingObjectAction =
  's3:GetObject' | 's3:PutObject' | 's3:AbortMultipartUpload' | 's3:DeleteObject' | 's3:PutObjectTagging';

/** What an operation's handler may touch; its role gets exactly this, besides its logs and X-Ray. */
export interface OperationPermissions {
  /**
   * Item actions per table. The handler also gets the variable holding each table's name.
   * @default - no table
   */
  readonly tables?: { readonly [T in TableName]?: readonly TableAction[] };
  /**
   * dynamodb:Query on these indexes of each table.
   * @default - no index
   */
  readonly indexQueries?: { readonly [T in TableName]?: readonly string[] };
  /**
   * Object actions under key prefixes of the imaging bucket. The handler also gets the bucket's
   * name in IMAGING_BUCKET and S3_ACCELERATE for the URLs it hands to uploaders.
   * @default - no object
   */
  readonly imagingObjects?: readonly {
    readonly prefix: string;
    readonly actions: readonly ImagingObjectAction[];
  }[];
  /**
   * Use of the bucket's SSE-KMS key through S3: kms:GenerateDataKey to write objects (multipart
   * uploads included), kms:Decrypt to read them and to start or complete a multipart upload.
   * @default - none
   */
  readonly objectEncryption?: readonly ('kms:GenerateDataKey' | 'kms:Decrypt')[];
  /**
   * Reads the upload limits (part size, quotas, part URL lifetime) from its environment.
   * @default false
   */
  readonly uploadSettings?: boolean;
  /**
   * Sends messages to the conversion queue, whose URL it gets.
   * @default false
   */
  readonly queuesConversions?: boolean;
  /**
   * Hands out CloudFront signed URLs: reads the signing key through Secrets Manager.
   * @default false
   */
  readonly signsImageUrls?: boolean;
  /**
   * Reads the active-job limits, job queues and job definition from its environment.
   * @default false
   */
  readonly jobSettings?: boolean;
  /**
   * Submits jobs to the platform's Batch queues.
   * @default false
   */
  readonly submitsJobs?: boolean;
  /**
   * Makes algorithm versions active: reads their images' manifests, configurations and scans in
   * ECR, and registers and deregisters their job definitions, passing them the job roles.
   * @default false
   */
  readonly activatesVersions?: boolean;
  /**
   * Terminates Batch jobs.
   * @default false
   */
  readonly terminatesJobs?: boolean;
  /**
   * Reads the streams of the job log group.
   * @default false
   */
  readonly readsJobLogs?: boolean;
}

const OBJECT_ENCRYPTION = ['kms:GenerateDataKey', 'kms:Decrypt'] as const;

/**
 * Every operation of the OpenAPI document with what its handler needs, read from the handler's
 * code: the one place to change when a handler starts to use something new. An operation without
 * an entry stops synth.
 */
export const OPERATION_PERMISSIONS: Readonly<Record<string, OperationPermissions>> = {
  getHealth: {},
  getOpenApiDocument: {},
  createUpload: {
    // putUpload; reserveUploadBytes and releaseUploadBytes update the usage counter,
    // uploadBytesInUse reads it to explain a refusal.
    tables: { uploads: ['dynamodb:PutItem'], usage: ['dynamodb:UpdateItem', 'dynamodb:GetItem'] },
    // CreateMultipartUpload is authorized as s3:PutObject; a failed start aborts what it began.
    imagingObjects: [{ prefix: UPLOADS_PREFIX, actions: ['s3:PutObject', 's3:AbortMultipartUpload'] }],
    objectEncryption: OBJECT_ENCRYPTION,
    uploadSettings: true,
  },
  getUpload: {
    tables: { uploads: ['dynamodb:GetItem'] },
  },
  signUploadParts: {
    tables: { uploads: ['dynamodb:GetItem'] },
    // A presigned UploadPart URL acts with this role's permissions when the uploader uses it.
    imagingObjects: [{ prefix: UPLOADS_PREFIX, actions: ['s3:PutObject'] }],
    objectEncryption: OBJECT_ENCRYPTION,
    uploadSettings: true,
  },
  completeUpload: {
    // getOwnedUpload, then finishUpload's conditional update; a file of the wrong size is
    // deleted and its quota returned.
    tables: { uploads: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], usage: ['dynamodb:UpdateItem'] },
    // CompleteMultipartUpload is authorized as s3:PutObject; HeadObject as s3:GetObject.
    imagingObjects: [
      { prefix: UPLOADS_PREFIX, actions: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'] },
    ],
    objectEncryption: OBJECT_ENCRYPTION,
    uploadSettings: true,
  },
  abortUpload: {
    tables: { uploads: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], usage: ['dynamodb:UpdateItem'] },
    imagingObjects: [{ prefix: UPLOADS_PREFIX, actions: ['s3:AbortMultipartUpload'] }],
    uploadSettings: true,
  },
  createImage: {
    // claimUploadsForImage and releaseUploadsFromImage update uploads; a refused claim reads the
    // upload to say why. deleteUnqueuedImage undoes putImage when the message cannot be sent.
    tables: {
      uploads: ['dynamodb:UpdateItem', 'dynamodb:GetItem'],
      images: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
    },
    queuesConversions: true,
  },
  getImage: {
    tables: { images: ['dynamodb:GetItem'] },
    signsImageUrls: true,
  },
  createAlgorithm: {
    // putVersion checks the digest with a query of the algorithm's versions before it writes;
    // syncMemberships only adds members of a new algorithm.
    tables: {
      algorithms: ['dynamodb:PutItem'],
      algorithmVersions: ['dynamodb:Query', 'dynamodb:PutItem'],
      memberships: ['dynamodb:PutItem'],
    },
    activatesVersions: true,
  },
  listAlgorithms: {
    // A page of the caller's memberships, then each algorithm item, which is the authority.
    tables: { memberships: ['dynamodb:Query'], algorithms: ['dynamodb:GetItem'] },
  },
  getAlgorithm: {
    tables: { algorithms: ['dynamodb:GetItem'] },
  },
  setAlgorithmUsers: {
    // getEditableAlgorithm, the conditional updateAlgorithm, then members added and removed.
    tables: {
      algorithms: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      memberships: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
    },
  },
  createAlgorithmVersion: {
    tables: {
      algorithms: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      algorithmVersions: ['dynamodb:Query', 'dynamodb:PutItem'],
    },
    activatesVersions: true,
  },
  submitJob: {
    // The algorithm, each image or upload named as an input, the idempotency key, the slots,
    // then the job; its manifest and copies of its input files go under jobs/.
    tables: {
      algorithms: ['dynamodb:GetItem'],
      images: ['dynamodb:GetItem'],
      uploads: ['dynamodb:GetItem'],
      idempotencyKeys: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      activeJobs: ['dynamodb:UpdateItem'],
      jobs: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
    },
    imagingObjects: [
      { prefix: JOBS_PREFIX, actions: ['s3:PutObject'] },
      { prefix: IMAGES_PREFIX, actions: ['s3:GetObject'] },
      { prefix: UPLOADS_PREFIX, actions: ['s3:GetObject'] },
    ],
    objectEncryption: ['kms:GenerateDataKey', 'kms:Decrypt'],
    jobSettings: true,
    submitsJobs: true,
  },
  listJobs: {
    // An editor naming their algorithm lists its jobs; everyone else their own.
    tables: { algorithms: ['dynamodb:GetItem'] },
    indexQueries: { jobs: ['byOwner', 'byAlgorithm'] },
  },
  getJob: {
    tables: { jobs: ['dynamodb:GetItem'], algorithms: ['dynamodb:GetItem'] },
    signsImageUrls: true,
  },
  cancelJob: {
    tables: {
      jobs: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      algorithms: ['dynamodb:GetItem'],
      activeJobs: ['dynamodb:UpdateItem'],
    },
    jobSettings: true,
    terminatesJobs: true,
  },
  getJobLogs: {
    tables: { jobs: ['dynamodb:GetItem'], algorithms: ['dynamodb:GetItem'] },
    readsJobLogs: true,
  },
};

/**
 * The permissions of each operation, in the order given. Fails when an operation has no entry, or
 * an entry names no operation (a handler that was removed must not leave grants behind).
 */
export function operationPermissions(operationIds: readonly string[]): Map<string, OperationPermissions> {
  const missing = operationIds.filter((id) => !Object.hasOwn(OPERATION_PERMISSIONS, id));
  if (missing.length > 0) {
    throw new Error(
      `operation ${missing.join(', ')} has no entry in OPERATION_PERMISSIONS (lib/core/operation-permissions.ts): ` +
        'list the tables, objects and keys that its handler uses, or {} for none',
    );
  }
  const stale = Object.keys(OPERATION_PERMISSIONS).filter((id) => !operationIds.includes(id));
  if (stale.length > 0) {
    throw new Error(
      `OPERATION_PERMISSIONS (lib/core/operation-permissions.ts) has an entry for ${stale.join(', ')}, ` +
        'which is not an operation of the OpenAPI document',
    );
  }
  return new Map(operationIds.map((id) => [id, OPERATION_PERMISSIONS[id]]));
}
