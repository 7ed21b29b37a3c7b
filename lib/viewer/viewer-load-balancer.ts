import { Duration } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { VIEWER_STARTING_PAGE } from './viewer-starting-page';
import { VIEWER_HOST } from '../../lambda/contracts/viewer-host';
import { acknowledge, acknowledgeHipaaAndNist } from '../core/acknowledgements';

/**
 * Seconds a connection may carry nothing before the load balancer closes it: well above the
 * minute between a viewer's keep-alive reports, and CloudFront's own ten minutes for WebSockets.
 */
export const VIEWER_IDLE_TIMEOUT_SECONDS = 600;
/**
 * The longest that a host being scaled in keeps its open connections on the load balancer (the
 * most a target group allows); the host protects itself from scale-in while it holds sessions.
 */
const DEREGISTRATION_DELAY = Duration.hours(1);

export interface ViewerLoadBalancerProps {
  readonly vpc: ec2.IVpc;
  /** Private subnets for an internal load balancer, public ones for one that faces readers. */
  readonly subnets: ec2.SubnetSelection;
  /**
   * A name and certificate of this region: the load balancer faces the internet with HTTPS on it.
   * @default - internal, HTTP from CloudFront's VPC origin only
   */
  readonly domain?: { readonly domainName: string; readonly certificateArn: string };
  /** Receives the load balancer's access logs. */
  readonly logBucket: s3.IBucket;
}

/**
 * The load balancer of one viewer region, in front of every host. Any host can open any session
 * from its credential, so there is one target group and no rule per session: new connections go
 * to the hosts whose health check (`/healthz`) answers 200, that is those with a free slot; a
 * full or draining host answers 503 and gets none, while its open WebSockets stay. `/ping`
 * answers from the load balancer itself, so a client measuring its latency to the region wakes
 * no host and gets an answer at zero capacity.
 */
export class ViewerLoadBalancer extends Construct {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly securityGroup: ec2.SecurityGroup;
  readonly listener: elbv2.ApplicationListener;

  constructor(scope: Construct, id: string, props: ViewerLoadBalancerProps) {
    super(scope, id);
    const internetFacing = props.domain !== undefined;
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: internetFacing
        ? 'Viewer load balancer: HTTPS from readers'
        : 'Viewer load balancer: HTTP from the CloudFront VPC origin',
      allowAllOutbound: false,
    });
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      internetFacing,
      securityGroup: this.securityGroup,
      idleTimeout: Duration.seconds(VIEWER_IDLE_TIMEOUT_SECONDS),
      dropInvalidHeaderFields: true,
      http2Enabled: true,
    });
    this.loadBalancer.logAccessLogs(props.logBucket, 'viewer-load-balancer');

    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'Hosts', {
      vpc: props.vpc,
      port: VIEWER_HOST.port,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.INSTANCE,
      deregistrationDelay: DEREGISTRATION_DELAY,
      healthCheck: {
        path: VIEWER_HOST.healthPath,
        healthyHttpCodes: '200',
        interval: Duration.seconds(5),
        timeout: Duration.seconds(3),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
      },
    });

    if (props.domain) {
      this.listener = this.loadBalancer.addListener('Https', {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [elbv2.ListenerCertificate.fromArn(props.domain.certificateArn)],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        defaultTargetGroups: [this.targetGroup],
        open: true,
      });
      acknowledge(this.securityGroup, {
        id: 'AwsSolutions-EC23',
        reason:
          'Readers anywhere open sessions on this load balancer over HTTPS (port 443 only); every session request carries a signed credential that the host verifies.',
      });
    } else {
      this.listener = this.loadBalancer.addListener('Http', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        defaultTargetGroups: [this.targetGroup],
        // Admitted by the stack: CloudFront's origin-facing addresses only.
        open: false,
      });
      const reason =
        'The load balancer is internal: CloudFront reaches it through its VPC origin inside the VPC, over the AWS network, and readers reach CloudFront with HTTPS only; an internal load balancer has no name that a public certificate could cover.';
      acknowledgeHipaaAndNist(this.loadBalancer, 'ALBHttpToHttpsRedirection', reason);
      acknowledgeHipaaAndNist(this.loadBalancer, 'ELBTlsHttpsListenersOnly', reason);
      acknowledgeHipaaAndNist(this.listener, 'ELBv2ACMCertificateRequired', reason);
    }
    this.listener.addAction('Ping', {
      priority: 1,
      conditions: [elbv2.ListenerCondition.pathPatterns([VIEWER_HOST.pingPath])],
      action: elbv2.ListenerAction.fixedResponse(204),
    });
    this.listener.addAction('Starting', {
      priority: 2,
      conditions: [elbv2.ListenerCondition.pathPatterns([VIEWER_HOST.startingPath])],
      action: elbv2.ListenerAction.fixedResponse(200, {
        contentType: 'text/html',
        messageBody: VIEWER_STARTING_PAGE,
      }),
    });

    acknowledge(this.loadBalancer, {
      id: 'NIST.800.53.R5-ALBWAFEnabled',
      reason:
        'Every session request needs a credential signed for that one session, which the host verifies before it opens anything; behind CloudFront, readers reach only the distribution, and a regional web ACL would add per-request charges without a check on signed requests.',
    });
    acknowledgeHipaaAndNist(
      this.loadBalancer,
      'ELBDeletionProtectionEnabled',
      'The load balancer holds no data: the stack recreates it, and deletion protection would only block removing a viewer region from the configuration.',
    );
  }

  /** Sends new connections to the group's hosts, and lets the load balancer reach them. */
  addHosts(group: autoscaling.AutoScalingGroup, hostSecurityGroup: ec2.ISecurityGroup): void {
    group.attachToApplicationTargetGroup(this.targetGroup);
    this.securityGroup.addEgressRule(
      hostSecurityGroup,
      ec2.Port.tcp(VIEWER_HOST.port),
      'To the viewer hosts',
    );
    hostSecurityGroup.addIngressRule(
      this.securityGroup,
      ec2.Port.tcp(VIEWER_HOST.port),
      'From the viewer load balancer',
    );
  }
}
