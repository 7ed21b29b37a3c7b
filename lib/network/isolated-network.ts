import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeHipaaAndNist } from '../core/acknowledgements';
import { GatewayPrefixList } from './gateway-prefix-list';

const HTTPS = ec2.Port.tcp(443);

/** What every workload in the network needs: image pulls, the ECS agent and container logs. */
const BASE_INTERFACE_ENDPOINTS: Readonly<Record<string, ec2.InterfaceVpcEndpointAwsService>> = {
  EcrApi: ec2.InterfaceVpcEndpointAwsService.ECR,
  EcrDocker: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
  Ecs: ec2.InterfaceVpcEndpointAwsService.ECS,
  EcsAgent: ec2.InterfaceVpcEndpointAwsService.ECS_AGENT,
  EcsTelemetry: ec2.InterfaceVpcEndpointAwsService.ECS_TELEMETRY,
  Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
};

/** S3 actions on objects that the platform's workloads use; ECR's layer bucket is read only. */
const OBJECT_ACTIONS = [
  's3:GetObject',
  's3:PutObject',
  's3:DeleteObject',
  's3:PutObjectTagging',
  's3:AbortMultipartUpload',
  's3:ListMultipartUploadParts',
];

export interface IsolatedNetworkProps {
  /** Buckets that workloads may reach through the S3 endpoint; every other bucket is refused there. */
  readonly buckets: readonly s3.IBucket[];
  /** Encrypts the flow log group. */
  readonly flowLogEncryptionKey: kms.IKey;
  /**
   * Zones of the subnets, and of every interface endpoint (each zone of each endpoint bills by the hour).
   * @default 2
   */
  readonly availabilityZones?: number;
  /** Days that flow logs are kept (a CloudWatch Logs retention period). */
  readonly flowLogRetentionDays: number;
  /**
   * Gateway endpoints besides S3's, keyed by construct id (DynamoDB for the converter).
   * @default - none
   */
  readonly gatewayEndpoints?: Readonly<Record<string, ec2.GatewayVpcEndpointAwsService>>;
  /**
   * Interface endpoints besides ECR, ECS and CloudWatch Logs, keyed by construct id.
   * @default - none
   */
  readonly interfaceEndpoints?: Readonly<Record<string, ec2.InterfaceVpcEndpointAwsService>>;
  /** @default 10.40.0.0/16 */
  readonly cidr?: string;
}

/**
 * A VPC in which workloads have no route to the internet: isolated subnets in two availability
 * zones (no internet gateway, no NAT), AWS services reached only through VPC endpoints, the S3
 * endpoint limited to the platform's buckets and ECR's layer bucket, and every flow logged.
 * Workloads get their security groups from `workloadSecurityGroup`, which allows HTTPS out to
 * the endpoints and nothing else; the endpoints accept HTTPS only from those groups.
 */
export class IsolatedNetwork extends Construct {
  readonly vpc: ec2.Vpc;
  /** The isolated subnets, one per availability zone, where workloads run. */
  readonly subnets: ec2.SubnetSelection;
  readonly endpointSecurityGroup: ec2.SecurityGroup;
  readonly flowLogGroup: logs.LogGroup;
  private readonly gatewayPrefixLists: ec2.IPeer[] = [];
  private readonly lookupLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: IsolatedNetworkProps) {
    super(scope, id);
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(props.cidr ?? '10.40.0.0/16'),
      maxAzs: props.availabilityZones ?? 2,
      natGateways: 0,
      createInternetGateway: false,
      subnetConfiguration: [{ name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 20 }],
    });
    this.subnets = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };

    this.flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      encryptionKey: props.flowLogEncryptionKey,
      retention: props.flowLogRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const flowLog = this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });
    acknowledgeHipaaAndNist(
      flowLog,
      'IAMNoInlinePolicy',
      'The policy is attached to the flow log delivery role and lets it write only to the flow log group; a customer-managed policy would carry the same statements.',
    );
    this.lookupLogGroup = new logs.LogGroup(this, 'PrefixListLookupLogs', {
      encryptionKey: props.flowLogEncryptionKey,
      retention: props.flowLogRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'VPC interface endpoints: HTTPS from the platform workloads only',
      allowAllOutbound: false,
    });
    const interfaceEndpoints = { ...BASE_INTERFACE_ENDPOINTS, ...props.interfaceEndpoints };
    for (const [endpointId, service] of Object.entries(interfaceEndpoints)) {
      this.vpc.addInterfaceEndpoint(endpointId, {
        service,
        subnets: this.subnets,
        securityGroups: [this.endpointSecurityGroup],
        // Not open to the whole VPC: workload groups are let in one by one.
        open: false,
        privateDnsEnabled: true,
      });
    }

    const s3Endpoint = this.addGatewayEndpoint('S3', ec2.GatewayVpcEndpointAwsService.S3);
    const { partition, region } = Stack.of(this);
    s3Endpoint.addToPolicy(
      new iam.PolicyStatement({
        principals: [new iam.AnyPrincipal()],
        actions: OBJECT_ACTIONS,
        resources: props.buckets.map((bucket) => bucket.arnForObjects('*')),
      }),
    );
    s3Endpoint.addToPolicy(
      new iam.PolicyStatement({
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:ListBucket'],
        resources: props.buckets.map((bucket) => bucket.bucketArn),
      }),
    );
    // Image layers that ECR serves come from this AWS-owned bucket (ECR user guide, VPC endpoints).
    s3Endpoint.addToPolicy(
      new iam.PolicyStatement({
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:GetObject'],
        resources: [`arn:${partition}:s3:::prod-${region}-starport-layer-bucket/*`],
      }),
    );
    for (const [endpointId, service] of Object.entries(props.gatewayEndpoints ?? {})) {
      this.addGatewayEndpoint(endpointId, service);
    }
  }

  /**
   * A security group for a workload in this network: HTTPS out to the interface endpoints and
   * to the gateway endpoints' prefix lists, nothing in; the endpoints accept it on HTTPS.
   */
  workloadSecurityGroup(scope: Construct, id: string, description: string): ec2.SecurityGroup {
    const group = new ec2.SecurityGroup(scope, id, { vpc: this.vpc, description, allowAllOutbound: false });
    group.addEgressRule(this.endpointSecurityGroup, HTTPS, 'HTTPS to the interface endpoints');
    for (const prefixList of this.gatewayPrefixLists) {
      group.addEgressRule(prefixList, HTTPS, 'HTTPS to a gateway endpoint');
    }
    this.endpointSecurityGroup.addIngressRule(group, HTTPS, `HTTPS from ${description}`);
    return group;
  }

  private addGatewayEndpoint(id: string, service: ec2.GatewayVpcEndpointAwsService): ec2.GatewayVpcEndpoint {
    const endpoint = this.vpc.addGatewayEndpoint(id, { service, subnets: [this.subnets] });
    // One scope per gateway endpoint, named as the endpoint is.
    const prefixList = new GatewayPrefixList(new Construct(this, id), 'PrefixList', {
      service,
      logGroup: this.lookupLogGroup,
    });
    this.gatewayPrefixLists.push(ec2.Peer.prefixList(prefixList.prefixListId));
    return endpoint;
  }
}
