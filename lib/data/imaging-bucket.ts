import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { CONVERSION_TAG, BUILDS_PREFIX, UPLOADS_PREFIX } from '../../lambda/contracts/bucket-layout';

export interface ImagingBucketProps {
  /** Key for SSE-KMS. */
  readonly encryptionKey: kms.IKey;
  /** Destination of the server access logs. */
  readonly accessLogsBucket: s3.IBucket;
  /** Origins whose browsers may upload parts and read ETags. */
  readonly webOrigins: string[];
  /** Days before an unfinished multipart upload is aborted. */
  readonly incompleteUploadDays: number;
  /** Days that a raw upload is kept once its conversion succeeded. */
  readonly convertedUploadDays: number;
  /** Days a build's source object (`builds/`) is kept: the pipeline reads it only while it runs. */
  readonly buildSourceDays: number;
  /** Days that an overwritten or deleted version is kept. */
  readonly noncurrentVersionDays: number;
}

/**
 * Holds every upload and converted image. Browsers upload straight to it through presigned
 * multipart URLs on the Transfer Acceleration endpoint; reads go through CloudFront only.
 */
export class ImagingBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: ImagingBucketProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      transferAcceleration: true,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      // One data key per object batch instead of a KMS call per part keeps uploads fast and cheap.
      bucketKeyEnabled: true,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'imaging-bucket/',
      cors: [
        {
          allowedOrigins: props.webOrigins,
          allowedMethods: [s3.HttpMethods.PUT, s3.HttpMethods.GET, s3.HttpMethods.HEAD],
          allowedHeaders: ['*'],
          // A browser must read each part's ETag to complete a multipart upload.
          exposedHeaders: ['ETag'],
          maxAge: 3600,
        },
      ],
      lifecycleRules: [
        {
          id: 'abort-incomplete-multipart-uploads',
          abortIncompleteMultipartUploadAfter: Duration.days(props.incompleteUploadDays),
        },
        {
          id: 'expire-converted-raw-uploads',
          prefix: UPLOADS_PREFIX,
          tagFilters: { [CONVERSION_TAG.key]: CONVERSION_TAG.succeeded },
          expiration: Duration.days(props.convertedUploadDays),
        },
        {
          id: 'expire-build-sources',
          prefix: BUILDS_PREFIX,
          expiration: Duration.days(props.buildSourceDays),
        },
        {
          id: 'expire-old-versions',
          noncurrentVersionExpiration: Duration.days(props.noncurrentVersionDays),
          expiredObjectDeleteMarker: true,
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.bucket).acknowledge(
      {
        id: 'HIPAA.Security-S3BucketReplicationEnabled',
        reason:
          'Versioning with a retained bucket protects against deletion; cross-region replication of multi-terabyte imaging archives is a per-deployment cost decision, not a default.',
      },
      {
        id: 'NIST.800.53.R5-S3BucketReplicationEnabled',
        reason:
          'Versioning with a retained bucket protects against deletion; cross-region replication of multi-terabyte imaging archives is a per-deployment cost decision, not a default.',
      },
    );
  }
}
