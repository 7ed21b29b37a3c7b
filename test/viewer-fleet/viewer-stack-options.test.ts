import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { viewerEndpointParameter } from '../../lambda/contracts/viewer-host';
import { defaultPlatformConfig } from '../../lib/config/platform-config';
import { securityChecks } from '../../lib/core/security-checks';
import { Platform } from '../../lib/platform';
import { synthPlatform } from '../helpers/synth-platform';

const TOKYO_CERTIFICATE =
  'arn:aws:acm:ap-northeast-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

const viewerStacksOf = (context: Record<string, unknown>) =>
  synthPlatform(context).platform.viewers.map((stack) => [stack.stackName, stack.region]);

describe('viewer regions follow the configuration', () => {
  test('adding a region adds exactly one stack, in that region; removing one removes exactly its stack', () => {
    const before = viewerStacksOf({});
    const added = viewerStacksOf({
      'platform.viewerRegions': [...defaultPlatformConfig.viewerRegions, 'eu-west-1'],
    });
    expect(added).toEqual([...before, ['ImagingPlatform-Viewer-eu-west-1', 'eu-west-1']]);
    const removed = viewerStacksOf({ 'platform.viewerRegions': ['eu-central-1', 'us-east-2'] });
    expect(removed).toEqual(before.filter(([, region]) => region !== 'ap-northeast-1'));
  });
});

describe('a region with its own domain, NAT gateways, no warm pool and no night schedule', () => {
  let app: App;
  let platform: Platform;
  let tokyo: Template;
  let frankfurt: Template;

  beforeAll(() => {
    ({ app, platform } = synthPlatform({
      'platform.domains.viewer': {
        domainName: 'viewer.example.org',
        regions: {
          'ap-northeast-1': { domainName: 'tokyo.viewer.example.org', certificateArn: TOKYO_CERTIFICATE },
        },
      },
      'platform.viewerFleet.natGateways': 2,
      'platform.viewerFleet.stoppedHosts': 0,
      'platform.viewerFleet.schedule': 'null',
    }));
    const assembly = app.synth();
    const templateOf = (region: string) =>
      Template.fromJSON(
        assembly.getStackByName(platform.viewers.find((s) => s.region === region)!.stackName).template,
      );
    tokyo = templateOf('ap-northeast-1');
    frankfurt = templateOf('eu-central-1');
  });

  test('TLS on the listener: an internet-facing load balancer with HTTPS on the configured certificate, no CloudFront', () => {
    tokyo.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internet-facing' });
    const listeners = Object.values(
      tokyo.findResources('AWS::ElasticLoadBalancingV2::Listener') as Resources,
    );
    expect(listeners.map((l) => [l.Properties.Protocol, l.Properties.Port])).toEqual([['HTTPS', 443]]);
    expect(listeners[0].Properties).toMatchObject({
      Certificates: [{ CertificateArn: TOKYO_CERTIFICATE }],
      SslPolicy: expect.stringMatching(/TLS13/),
    });
    tokyo.resourceCountIs('AWS::CloudFront::Distribution', 0);
    tokyo.hasResourceProperties('AWS::SSM::Parameter', {
      Name: viewerEndpointParameter(defaultPlatformConfig.name),
      Value: 'https://tokyo.viewer.example.org',
    });
    expect(JSON.stringify(tokyo.toJSON())).toContain(
      "VIEWER_ORIGIN <<'VIEWER_HOST_SETTING'\\nhttps://tokyo.viewer.example.org\\n",
    );
    // A region without its own domain keeps the default.
    frankfurt.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internal' });
    frankfurt.resourceCountIs('AWS::CloudFront::Distribution', 1);
  });

  test('with no stopped hosts there is no warm pool, and hosts still enter service only when ready', () => {
    for (const template of [tokyo, frankfurt]) {
      template.resourceCountIs('AWS::AutoScaling::WarmPool', 0);
      template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', {
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
      });
    }
  });

  test('with NAT gateways, hosts run in private subnets without a public address', () => {
    tokyo.resourceCountIs('AWS::EC2::NatGateway', 2);
    const launchData = Object.values(tokyo.findResources('AWS::EC2::LaunchTemplate') as Resources)[0]
      .Properties.LaunchTemplateData as Record<string, unknown>;
    expect(JSON.stringify(launchData.NetworkInterfaces ?? [])).not.toContain('AssociatePublicIpAddress');
    const group = Object.values(tokyo.findResources('AWS::AutoScaling::AutoScalingGroup') as Resources)[0];
    const privateSubnets = Object.entries(tokyo.findResources('AWS::EC2::Subnet') as Resources)
      .filter(([, subnet]) =>
        (subnet.Properties.Tags as { Key: string; Value: string }[]).some(
          (t) => t.Key === 'aws-cdk:subnet-type' && t.Value === 'Private',
        ),
      )
      .map(([id]) => ({ Ref: id }));
    expect(privateSubnets).toHaveLength(2);
    expect(group.Properties.VPCZoneIdentifier).toEqual(privateSubnets);
  });

  test('without a schedule, the minimum holds day and night', () => {
    tokyo.resourceCountIs('AWS::AutoScaling::ScheduledAction', 0);
  });

  test('cdk-nag reports nothing unacknowledged with these options', () => {
    const findings = securityChecks(app).flatMap((pack) =>
      pack
        .validateScope(app)
        .violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`)),
    );
    expect(findings.filter((f) => f.includes('-Viewer-'))).toEqual([]);
  });
});
