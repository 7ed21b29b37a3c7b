import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeHipaaAndNist } from '../core/acknowledgements';

export interface BuildArtifactBucketProps {
  readonly encryptionKey: kms.IKey;
  /**
   * Days an artifact is kept: a build reads its source artifact within its own run.
   * @default 3
   */
  readonly expirationDays?: number;
}

/**
 * Where the build pipeline keeps its artifacts: the copy of each build's source object that the
 * source action makes for CodeBuild. It holds copies only, which expire within days; it lives in
 * the data stack and is retained as every bucket is, so deleting the pipeline's stack never
 * fails on a bucket that still holds objects.
 */
export class BuildArtifactBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: BuildArtifactBucketProps) {
    super(scope, id);
    const days = props.expirationDays ?? 3;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: true,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      lifecycleRules: [
        {
          id: 'expire-artifacts',
          expiration: Duration.days(days),
          noncurrentVersionExpiration: Duration.days(1),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const copies = `It holds only the pipeline's copies of build contexts, whose originals stay in the imaging bucket (where accesses are logged), and each for ${days} days at most.`;
    acknowledge(this.bucket, { id: 'AwsSolutions-S1', reason: copies });
    acknowledgeHipaaAndNist(this.bucket, 'S3BucketLoggingEnabled', copies);
    acknowledgeHipaaAndNist(this.bucket, 'S3BucketReplicationEnabled', copies);
  }
}
