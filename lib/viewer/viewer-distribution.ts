import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { VIEWER_HOST } from '../../lambda/contracts/viewer-host';
import { GatewayPrefixList } from '../network/gateway-prefix-list';

/** The AWS-managed prefix list of the addresses CloudFront reaches origins from. */
const CLOUDFRONT_ORIGIN_FACING = 'com.amazonaws.global.cloudfront.origin-facing';

export interface ViewerDistributionProps {
  /** The internal load balancer, with its HTTP listener on port 80. */
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /** The load balancer's group, which admits CloudFront's origin-facing addresses. */
  readonly loadBalancerSecurityGroup: ec2.SecurityGroup;
  /** Receives CloudFront's standard logs. */
  readonly logBucket: s3.IBucket;
  /** Log group of the prefix list lookup, which runs at deploy time. */
  readonly lookupLogGroup: logs.ILogGroup;
}

/**
 * HTTPS for a viewer region without a domain of its own: a CloudFront distribution whose
 * origin is the internal load balancer, reached through a VPC origin (no public address on the
 * load balancer). Nothing is cached; every header, cookie (the `viewer-ticket`) and query
 * string goes to the host, and WebSockets pass (CloudFront forwards the upgrade with all viewer
 * headers and keeps an idle WebSocket open ten minutes, ten times the viewer's keep-alive).
 */
export class ViewerDistribution extends Construct {
  readonly distribution: cloudfront.Distribution;
  /** The origin readers open sessions at, `https://d111111abcdef8.cloudfront.net`. */
  readonly origin: string;

  constructor(scope: Construct, id: string, props: ViewerDistributionProps) {
    super(scope, id);
    const originFacing = new GatewayPrefixList(this, 'OriginFacing', {
      // The lookup reads a prefix list by its name, as it reads a gateway endpoint's.
      service: { name: CLOUDFRONT_ORIGIN_FACING } as ec2.GatewayVpcEndpointAwsService,
      logGroup: props.lookupLogGroup,
    });
    props.loadBalancerSecurityGroup.addIngressRule(
      ec2.Peer.prefixList(originFacing.prefixListId),
      ec2.Port.tcp(80),
      'HTTP from CloudFront, through the VPC origin',
    );

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Viewer sessions of this region',
      defaultBehavior: {
        origin: origins.VpcOrigin.withApplicationLoadBalancer(props.loadBalancer, {
          httpPort: 80,
          protocolPolicy: cloudfront.OriginProtocolPolicy.HTTP_ONLY,
          // A session's first request loads its images into the session's container.
          readTimeout: Duration.seconds(60),
          keepaliveTimeout: Duration.seconds(60),
        }),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
        cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
        originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER,
        compress: true,
      },
      // No host in service: the load balancer's starting page, tried again every few seconds.
      errorResponses: [
        {
          httpStatus: 503,
          responseHttpStatus: 503,
          responsePagePath: VIEWER_HOST.startingPath,
          ttl: Duration.seconds(0),
        },
      ],
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      enableLogging: true,
      logBucket: props.logBucket,
      logFilePrefix: 'viewer-cloudfront/',
    });
    this.origin = `https://${this.distribution.domainName}`;

    Validations.of(this.distribution).acknowledge(
      {
        id: 'AwsSolutions-CFR1',
        reason:
          'Readers of every country open sessions here; every session request carries a credential signed for one session, which the host verifies.',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'Every session request is refused by the host without a valid signed session credential; a CLOUDFRONT-scope WAF would need a stack in us-east-1 and adds no check on signed requests.',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason:
          'Without a domain of its own the distribution uses the *.cloudfront.net certificate, whose security policy CloudFront fixes; set domains.viewer.regions for a load balancer with its own certificate and TLS policy.',
      },
    );
  }
}
