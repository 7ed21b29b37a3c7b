import { CfnOutput, RemovalPolicy, Stack, StackProps, Tags } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { ViewerHosts } from '../../containers/viewer/host/deploy';
import { viewerEndpointParameter, viewerMetricNamespace } from '../../lambda/contracts/viewer-host';
import { PlatformConfig, viewerTimeZone } from '../config/platform-config';
import { publishedValue } from '../core/published-value';
import { AccessLogBucket } from '../data/access-log-bucket';
import { ViewerDistribution } from '../viewer/viewer-distribution';
import { ViewerKey } from '../viewer/viewer-key';
import { ViewerLoadBalancer } from '../viewer/viewer-load-balancer';
import { ViewerMetrics } from '../viewer/viewer-metrics';
import { ViewerMonitoring } from '../viewer/viewer-monitoring';
import { ViewerNetwork } from '../viewer/viewer-network';
import { ViewerScaling } from '../viewer/viewer-scaling';
import { ApiStack } from './api-stack';
import { DataStack } from './data-stack';

/** Resources whose schema in cfn-lint has no Tags property. */
const UNTAGGED_RESOURCE_TYPES = [
  'AWS::ElasticLoadBalancingV2::Listener',
  'AWS::ElasticLoadBalancingV2::ListenerRule',
  'AWS::CloudWatch::Dashboard',
];

export interface ViewerStackProps extends StackProps {
  readonly config: PlatformConfig;
  /** Publishes the session public key (output SessionPublicKeyPem). */
  readonly data: DataStack;
  /** Publishes the API's URL (output ApiBaseUrl), where hosts report sessions. */
  readonly api: ApiStack;
}

/**
 * The viewer fleet of one region, near its readers: a network, a load balancer with HTTPS (its
 * own certificate, or CloudFront in front of an internal one), the hosts that run sessions,
 * their scaling, a dashboard and alarms, and the SSM parameter through which the API finds this
 * region's viewer. It reads the home region's outputs (the API's URL, the session public key)
 * and nothing of the home region reads it, so regions come and go without touching the others.
 */
export class ViewerStack extends Stack {
  readonly hosts: ViewerHosts;
  readonly loadBalancer: ViewerLoadBalancer;
  readonly distribution?: ViewerDistribution;
  readonly monitoring: ViewerMonitoring;
  readonly scaling: ViewerScaling;
  /** Where readers of this region open sessions, `https://...`. */
  readonly viewerOrigin: string;

  constructor(scope: Construct, id: string, props: ViewerStackProps) {
    super(scope, id, props);
    const { config, data, api } = props;
    const fleet = config.viewerFleet;
    this.addStackDependency(data);
    this.addStackDependency(api);

    const key = new ViewerKey(this, 'Key', { alias: `alias/${config.name}-viewer` });
    const logRetentionDays = config.retention.logRetentionDays;
    const network = new ViewerNetwork(this, 'Network', {
      natGateways: fleet.natGateways,
      flowLogEncryptionKey: key.key,
      flowLogRetentionDays: logRetentionDays,
    });
    const accessLogs = new AccessLogBucket(this, 'AccessLogs', {
      retentionDays: config.retention.accessLogDays,
    });

    const domain = config.domains.viewer?.regions?.[this.region];
    this.loadBalancer = new ViewerLoadBalancer(this, 'LoadBalancer', {
      vpc: network.vpc,
      subnets: domain ? network.publicSubnets : network.privateSubnets,
      domain,
      logBucket: accessLogs.bucket,
    });
    if (domain) {
      this.viewerOrigin = `https://${domain.domainName}`;
      new CfnOutput(this, 'ViewerDomainTarget', {
        description: `Point a CNAME or alias record for ${domain.domainName} here`,
        value: this.loadBalancer.loadBalancer.loadBalancerDnsName,
      });
    } else {
      this.distribution = new ViewerDistribution(this, 'Distribution', {
        loadBalancer: this.loadBalancer.loadBalancer,
        loadBalancerSecurityGroup: this.loadBalancer.securityGroup,
        logBucket: accessLogs.bucket,
        lookupLogGroup: new logs.LogGroup(this, 'LookupLogs', {
          encryptionKey: key.key,
          retention: logRetentionDays as logs.RetentionDays,
          removalPolicy: RemovalPolicy.RETAIN,
        }),
      });
      this.viewerOrigin = this.distribution.origin;
    }

    const hostSecurityGroup = new ec2.SecurityGroup(this, 'HostSecurityGroup', {
      vpc: network.vpc,
      description: 'Viewer hosts: the load balancer in; HTTPS out to ECR, AWS APIs, CloudFront and the API',
      allowAllOutbound: false,
    });
    hostSecurityGroup.addEgressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(443),
      'HTTPS to AWS, CloudFront and the API',
    );
    const metricNamespace = viewerMetricNamespace(config.name);
    this.hosts = new ViewerHosts(this, 'Hosts', {
      vpc: network.vpc,
      subnets: network.hostSubnets,
      publicAddress: network.hostsNeedPublicAddress,
      securityGroup: hostSecurityGroup,
      fleet,
      fleetName: config.name,
      settings: {
        viewerOrigin: this.viewerOrigin,
        apiUrl: publishedValue(api.restApi, api.apiBaseUrl),
        sessionPublicKeyPem: publishedValue(data.sessionSigningKey, data.sessionSigningKey.publicKeyPem),
        sessionsPerHost: fleet.sessionsPerHost,
        sessionMemoryMiB: fleet.sessionMemoryMiB,
        sessionMilliCpus: fleet.sessionMilliCpus,
        metricNamespace,
      },
      logEncryptionKey: key.key,
      logRetentionDays,
    });
    this.loadBalancer.addHosts(this.hosts.autoScalingGroup, hostSecurityGroup);

    const metrics = new ViewerMetrics(metricNamespace, this.hosts.autoScalingGroupName);
    this.scaling = new ViewerScaling(this, 'Scaling', {
      group: this.hosts.autoScalingGroup,
      metrics,
      loadBalancer: this.loadBalancer.loadBalancer,
      fleet,
      timeZone: viewerTimeZone(config, this.region),
    });
    this.monitoring = new ViewerMonitoring(this, 'Monitoring', {
      metrics,
      group: this.hosts.autoScalingGroup,
      targetGroup: this.loadBalancer.targetGroup,
      loadBalancer: this.loadBalancer.loadBalancer,
      topicKey: key.key,
      alarmEmails: config.operations.alarmEmails,
      dashboardName: `${config.name}-Viewer-${this.region}`,
    });

    // The API reads this at run time, in each viewer region: no stack of the home region
    // depends on this one.
    new ssm.StringParameter(this, 'Endpoint', {
      parameterName: viewerEndpointParameter(config.name),
      description: "Origin of this region's viewer, where sessions placed here open",
      stringValue: this.viewerOrigin,
    });
    new CfnOutput(this, 'ViewerOrigin', { value: this.viewerOrigin });
    new CfnOutput(this, 'AlarmTopicArn', {
      description: 'Subscribe operators to the viewer alarms of this region',
      value: this.monitoring.topic.topicArn,
    });
    new CfnOutput(this, 'HostGroupName', { value: this.hosts.autoScalingGroupName });

    // cfn-lint's resource schemas take no Tags on these; they carry no cost of their own to allocate.
    for (const key of Object.keys(config.tags)) {
      Tags.of(this).remove(key, { includeResourceTypes: UNTAGGED_RESOURCE_TYPES });
    }
  }
}
