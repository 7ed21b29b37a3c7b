import { TableName } from './tables';

/**
 * Actions that a handler may be granted on a table itself; queries of an index are granted on
 * the index (`indexQueries`).
 */
export type TableAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:DeleteItem'
  | 'dynamodb:ConditionCheckItem'
  | 'dynamodb:Query'
  /** Writing many items a call where none needs a condition: an image's file pages. */
  | 'dynamodb:BatchWriteItem'
  /** Only the upload sweeper, which looks through every upload once an hour. */
  | 'dynamodb:Scan';

/** Actions on objects of the imaging bucket that a handler may be granted. */
export type ImagingObjectAction =
  | 's3:GetObject'
  /** Reading a version named by its id, as a copy of a pinned version does. */
  | 's3:GetObjectVersion'
  | 's3:PutObject'
  | 's3:AbortMultipartUpload'
  | 's3:DeleteObject'
  | 's3:PutObjectTagging';

/**
 * What a handler or container may touch, in the platform's terms; its role gets exactly this,
 * besides its logs and X-Ray, and its environment names each thing it may touch
 * (`environmentGroups`). Deploy code turns it into IAM statements; local mode evaluates the
 * same environment.
 */
export interface HandlerPermissions {
  /**
   * Item actions per table.
   * @default - no table
   */
  readonly tables?: { readonly [T in TableName]?: readonly TableAction[] };
  /**
   * dynamodb:Query on these indexes of each table.
   * @default - no index
   */
  readonly indexQueries?: { readonly [T in TableName]?: readonly string[] };
  /**
   * Object actions under key prefixes of the imaging bucket.
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
   * Sends messages to the conversion queue.
   * @default false
   */
  readonly queuesConversions?: boolean;
  /**
   * Submits upload sets to the converter container's Batch queue.
   * @default false
   */
  readonly submitsConversions?: boolean;
  /**
   * Hands out CloudFront signed URLs: reads the signing key through Secrets Manager.
   * @default false
   */
  readonly signsImageUrls?: boolean;
  /**
   * Signs viewer session credentials (and checks them): reads the session signing key through
   * Secrets Manager.
   * @default false
   */
  readonly signsSessionCredentials?: boolean;
  /**
   * Reads the origin each viewer region's fleet publishes: one SSM parameter per viewer region.
   * @default false
   */
  readonly readsViewerEndpoints?: boolean;
  /**
   * Starts a host in a viewer region whose fleet has none: reads the regions' Auto Scaling groups
   * and sets the capacity of those tagged as the platform's fleet.
   * @default false
   */
  readonly wakesViewerFleets?: boolean;
  /**
   * Signs and checks the page tokens of a list operation: reads their key through Secrets Manager.
   * @default false
   */
  readonly signsPageTokens?: boolean;
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
   * Sends messages to the build queue.
   * @default false
   */
  readonly queuesBuilds?: boolean;
  /**
   * Starts executions of the build pipeline (codepipeline:StartPipelineExecution), and, with
   * `stops`, stops them and the CodeBuild builds they run.
   * @default - none
   */
  readonly runsBuilds?: readonly ('start' | 'stop')[];
  /**
   * Reports the result of a pipeline job (codepipeline:PutJobSuccessResult, PutJobFailureResult).
   * @default false
   */
  readonly reportsPipelineJobs?: boolean;
  /**
   * Tags images in the algorithm repository (`tag`: a checked build's version) and removes tags
   * and images (`remove`: a refused or ended build's candidate).
   * @default - none
   */
  readonly managesBuildImages?: readonly ('tag' | 'remove')[];
  /**
   * Reads the streams of the build log group.
   * @default false
   */
  readonly readsBuildLogs?: boolean;
  /**
   * Terminates Batch jobs.
   * @default false
   */
  readonly terminatesJobs?: boolean;
  /**
   * Lists the jobs of the platform's Batch queues and reads their attempts (batch:ListJobs,
   * batch:DescribeJobs, which name no resource).
   * @default false
   */
  readonly watchesJobQueues?: boolean;
  /**
   * Reads the streams of the job log group.
   * @default false
   */
  readonly readsJobLogs?: boolean;
  /**
   * Creates, reads back and deletes the secrets that hold signing keys (URL-signing, session
   * signing), encrypted with the platform key; granted by the construct that owns those secrets
   * (`UrlSigningKeyPair`, `SessionSigningKey`).
   * @default false
   */
  readonly managesSigningKeys?: boolean;
}

/** Both uses of the bucket key through S3. */
export const OBJECT_ENCRYPTION = ['kms:GenerateDataKey', 'kms:Decrypt'] as const;
