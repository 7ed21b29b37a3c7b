import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeHipaaAndNist } from '../core/acknowledgements';

export interface ViewerNetworkProps {
  /**
   * NAT gateways (one per availability zone at most). With none, hosts run in the public
   * subnets with a public IPv4 address each, for egress only: their security group admits
   * nothing but the load balancer.
   */
  readonly natGateways: number;
  /** Encrypts the flow log group. */
  readonly flowLogEncryptionKey: kms.IKey;
  readonly flowLogRetentionDays: number;
  /** @default 10.50.0.0/16 */
  readonly cidr?: string;
}

/**
 * The network of one viewer region: a VPC across two availability zones with public subnets
 * (an internet gateway: egress for hosts, and the gateway that CloudFront VPC origins require)
 * and private subnets for the internal load balancer, every flow logged. Hosts reach ECR,
 * Systems Manager, CloudWatch, the imaging distribution and the API over the internet, through
 * NAT when the configuration pays for it, otherwise from the public subnets: cheaper than NAT
 * or interface endpoints, and CloudFront and the API have no endpoint anyway.
 */
export class ViewerNetwork extends Construct {
  readonly vpc: ec2.Vpc;
  /** Where hosts run. */
  readonly hostSubnets: ec2.SubnetSelection;
  /** Whether hosts need a public address of their own for egress (no NAT). */
  readonly hostsNeedPublicAddress: boolean;
  /** Where an internal load balancer runs. */
  readonly privateSubnets: ec2.SubnetSelection;
  readonly publicSubnets: ec2.SubnetSelection;

  constructor(scope: Construct, id: string, props: ViewerNetworkProps) {
    super(scope, id);
    const withNat = props.natGateways > 0;
    const privateType = withNat ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED;
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(props.cidr ?? '10.50.0.0/16'),
      maxAzs: 2,
      natGateways: props.natGateways,
      subnetConfiguration: [
        // Addresses are given by the launch template, to hosts only: nothing else here gets one.
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 22, mapPublicIpOnLaunch: false },
        { name: 'Private', subnetType: privateType, cidrMask: 22 },
      ],
    });
    this.publicSubnets = { subnetType: ec2.SubnetType.PUBLIC };
    this.privateSubnets = { subnetType: privateType };
    this.hostSubnets = withNat ? this.privateSubnets : this.publicSubnets;
    this.hostsNeedPublicAddress = !withNat;

    for (const subnet of this.vpc.publicSubnets) {
      acknowledgeHipaaAndNist(
        subnet.node.findChild('DefaultRoute'),
        'VPCNoUnrestrictedRouteToIGW',
        'Hosts without NAT reach ECR, Systems Manager, CloudWatch, the imaging distribution and the API through this route; their security group admits only the load balancer, and the load balancer is internal unless a domain faces it to readers.',
      );
    }
    const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      encryptionKey: props.flowLogEncryptionKey,
      retention: props.flowLogRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const flowLog = this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });
    acknowledgeHipaaAndNist(
      flowLog,
      'IAMNoInlinePolicy',
      'The policy is attached to the flow log delivery role and lets it write only to the flow log group; a customer-managed policy would carry the same statements.',
    );
  }
}
