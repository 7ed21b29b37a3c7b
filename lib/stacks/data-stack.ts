import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { PlatformConfig } from '../config/platform-config';
import { AccessLogBucket } from '../data/access-log-bucket';
import { ImagingBucket } from '../data/imaging-bucket';
import { ImagingDistribution } from '../delivery/imaging-distribution';
import { PlatformKey } from '../data/platform-key';
import { UrlSigningKeyPair } from '../delivery/url-signing-key-pair';

export interface DataStackProps extends StackProps {
  readonly config: PlatformConfig;
}

/**
 * The stateful home of imaging data: the KMS key, the imaging bucket and the CloudFront
 * distribution that serves it with signed URLs. Bucket and distribution share this stack.
 */
export class DataStack extends Stack {
  readonly platformKey: PlatformKey;
  readonly imagingBucket: ImagingBucket;
  readonly signingKeyPair: UrlSigningKeyPair;
  readonly imagingDistribution: ImagingDistribution;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.platformKey = new PlatformKey(this, 'PlatformKey', { alias: `alias/${config.name}-data` });
    const accessLogs = new AccessLogBucket(this, 'AccessLogs', {
      retentionDays: config.retention.accessLogDays,
    });
    this.imagingBucket = new ImagingBucket(this, 'Imaging', {
      encryptionKey: this.platformKey.key,
      accessLogsBucket: accessLogs.bucket,
      webOrigins: config.webOrigins,
      incompleteUploadDays: config.limits.incompleteUploadDays,
      convertedUploadDays: config.retention.convertedUploadDays,
      noncurrentVersionDays: config.retention.noncurrentVersionDays,
    });
    this.signingKeyPair = new UrlSigningKeyPair(this, 'UrlSigningKeyPair', {
      encryptionKey: this.platformKey.key,
      logRetentionDays: config.retention.logRetentionDays,
      generation: config.urlSigningKeyGeneration,
    });
    this.imagingDistribution = new ImagingDistribution(this, 'ImagingDistribution', {
      bucket: this.imagingBucket.bucket,
      signingKeyPair: this.signingKeyPair,
      logBucket: accessLogs.bucket,
      signedUrlSeconds: config.limits.signedUrlSeconds,
      domain: config.domains.images,
    });

    new CfnOutput(this, 'ImagingBucketName', { value: this.imagingBucket.bucket.bucketName });
    new CfnOutput(this, 'ImagesBaseUrl', { value: this.imagingDistribution.baseUrl });
    new CfnOutput(this, 'SigningKeyPairId', { value: this.signingKeyPair.publicKey.publicKeyId });
  }
}
