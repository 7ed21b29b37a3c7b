import { Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { UrlSigningKeyPair } from './url-signing-key-pair';

export interface ImagingDistributionProps {
  /** The bucket it serves; must be in the same stack, or OAC's key and bucket policies form a cycle. */
  readonly bucket: s3.IBucket;
  /** Signs every URL and cookie that the distribution accepts. */
  readonly signingKeyPair: UrlSigningKeyPair;
  /** Destination of CloudFront's standard logs. */
  readonly logBucket: s3.IBucket;
  /**
   * Custom domain with a certificate from us-east-1.
   * @default - the distribution's cloudfront.net domain
   */
  readonly domain?: { readonly domainName: string; readonly certificateArn: string };
}

/**
 * Serves images from the imaging bucket to browsers and viewer fleets worldwide. The bucket is
 * reachable only through Origin Access Control, and every request needs a URL or cookie signed
 * by the platform's key pair.
 */
export class ImagingDistribution extends Construct {
  readonly distribution: cloudfront.Distribution;
  /** Origin under which objects are served, e.g. `https://d111111abcdef8.cloudfront.net`. */
  readonly baseUrl: string;
  private readonly signingKeyPair: UrlSigningKeyPair;

  constructor(scope: Construct, id: string, props: ImagingDistributionProps) {
    super(scope, id);
    this.signingKeyPair = props.signingKeyPair;
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Imaging data, signed URLs only',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(props.bucket, {
          originAccessLevels: [cloudfront.AccessLevel.READ],
        }),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
        trustedKeyGroups: [props.signingKeyPair.keyGroup],
        compress: true,
      },
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      ...(props.domain && {
        minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
        domainNames: [props.domain.domainName],
        certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', props.domain.certificateArn),
      }),
      enableLogging: true,
      logBucket: props.logBucket,
      logFilePrefix: 'cloudfront/',
    });

    this.baseUrl = `https://${props.domain?.domainName ?? this.distribution.domainName}`;

    Validations.of(this.distribution).acknowledge(
      {
        id: 'AwsSolutions-CFR1',
        reason:
          'Researchers of every country use the platform; each object already needs a URL signed for one user that expires within minutes.',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'CloudFront rejects every request without a valid signature from the trusted key group before it reaches the origin; a CLOUDFRONT-scope WAF would need a us-east-1 stack and adds no check on signed reads.',
      },
    );
    if (!props.domain) {
      Validations.of(this.distribution).acknowledge({
        id: 'AwsSolutions-CFR4',
        reason:
          'With no custom domain configured the distribution uses the *.cloudfront.net certificate, whose security policy CloudFront fixes at TLSv1; set domains.images to enforce TLSv1.2_2021.',
      });
    }
  }

  /** Lets a handler hand out signed URLs and cookies: read of the current key pair. */
  grantSignedUrls(grantee: iam.IGrantable): iam.Grant {
    return this.signingKeyPair.grantSign(grantee);
  }

  /**
   * What a handler needs to sign URLs (`SIGNED_URLS`), besides their lifetime: the secret that
   * names the current key pair, the same for every generation, so a rotation changes nothing here.
   */
  get signingSettings(): { imagesBaseUrl: string; currentSigningKeySecretArn: string } {
    return {
      imagesBaseUrl: this.baseUrl,
      currentSigningKeySecretArn: this.signingKeyPair.currentKeySecret.secretArn,
    };
  }
}
