import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ACTIVE_REPORT_INTERVAL_MS } from '../../containers/viewer/server/viewer-sessions';
import {
  VIEWER_FLEET_TAG,
  VIEWER_HOST,
  viewerEndpointParameter,
  viewerMetricNamespace,
} from '../../lambda/contracts/viewer-host';
import { defaultPlatformConfig } from '../../lib/config/platform-config';
import { securityChecks } from '../../lib/core/security-checks';
import { Platform } from '../../lib/platform';
import { ViewerStack } from '../../lib/stacks/viewer-stack';
import { VIEWER_STARTING_PAGE } from '../../lib/viewer/viewer-starting-page';
import { synthPlatform } from '../helpers/synth-platform';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

/** The statements of every policy attached to the role whose logical id is `roleId`. */
function statementsOf(
  template: Template,
  roleId: string,
): { Action: string | string[]; Resource: unknown; Condition?: unknown }[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy') as Resources).filter((p) =>
    JSON.stringify(p.Properties.Roles).includes(`"${roleId}"`),
  );
  return policies.flatMap(
    (p) =>
      (p.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] })
        .Statement,
  );
}

/** The metric an alarm watches, whether written inline or as a one-metric `Metrics` list. */
function metricOf(alarm: { Properties: Record<string, unknown> }) {
  const p = alarm.Properties as {
    Namespace?: string;
    MetricName?: string;
    Dimensions?: unknown;
    Metrics?: { MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions: unknown } } }[];
  };
  const stat = p.Metrics?.length === 1 ? p.Metrics[0].MetricStat?.Metric : undefined;
  return stat
    ? { namespace: stat.Namespace, name: stat.MetricName, dimensions: stat.Dimensions }
    : { namespace: p.Namespace, name: p.MetricName, dimensions: p.Dimensions };
}

const actionsOf = (statements: { Action: string | string[] }[]) =>
  statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

describe('viewer stacks of the default configuration', () => {
  let app: App;
  let platform: Platform;
  let assembly: ReturnType<App['synth']>;
  let templates: Map<string, Template>;

  beforeAll(() => {
    ({ app, platform } = synthPlatform());
    // One synth for every stack: Template.fromStack would synthesize the app once per stack.
    assembly = app.synth();
    templates = new Map(
      platform.viewers.map((stack) => [
        stack.region,
        Template.fromJSON(assembly.getStackByName(stack.stackName).template),
      ]),
    );
  });

  const each = () =>
    defaultPlatformConfig.viewerRegions.map((region) => [region, templates.get(region)!] as const);
  const hostRoleId = (template: Template) => {
    const roles = template.findResources('AWS::IAM::Role', {
      Properties: {
        AssumeRolePolicyDocument: { Statement: [{ Principal: { Service: 'ec2.amazonaws.com' } }] },
      },
    });
    expect(Object.keys(roles)).toHaveLength(1);
    return Object.keys(roles)[0];
  };

  test('one viewer stack per viewer region, each in its region', () => {
    expect(platform.viewers.map((stack) => [stack.stackName, stack.region])).toEqual([
      ['ImagingPlatform-Viewer-eu-central-1', 'eu-central-1'],
      ['ImagingPlatform-Viewer-ap-northeast-1', 'ap-northeast-1'],
      ['ImagingPlatform-Viewer-us-east-2', 'us-east-2'],
    ]);
  });

  test('the launch template: Amazon Linux 2023, IMDSv2 only with hop limit 1, encrypted volumes, no key pair', () => {
    for (const [, template] of each()) {
      const templatesOf = template.findResources('AWS::EC2::LaunchTemplate') as Resources;
      expect(Object.keys(templatesOf)).toHaveLength(1);
      const data = Object.values(templatesOf)[0].Properties.LaunchTemplateData as Record<string, unknown>;
      expect(data.MetadataOptions).toEqual(
        expect.objectContaining({
          HttpTokens: 'required',
          HttpPutResponseHopLimit: 1,
          HttpEndpoint: 'enabled',
        }),
      );
      expect(data).not.toHaveProperty('KeyName');
      const volumes = data.BlockDeviceMappings as { Ebs: { Encrypted: boolean } }[];
      expect(volumes.length).toBeGreaterThan(0);
      for (const volume of volumes) expect(volume.Ebs.Encrypted).toBe(true);
      // The image is the current Amazon Linux 2023 from the public SSM parameter, read at deploy.
      const imageParameter = (data.ImageId as { Ref: string }).Ref;
      expect(template.toJSON().Parameters[imageParameter].Default).toMatch(
        /^\/aws\/service\/ami-amazon-linux-latest\/al2023-ami-/,
      );
    }
  });

  test('no SSH: no key pair and no ingress but the load balancer on the host port', () => {
    for (const [, template] of each()) {
      const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress') as Resources);
      const toHosts = ingress.filter((rule) => rule.Properties.FromPort === VIEWER_HOST.port);
      expect(toHosts).toHaveLength(1);
      expect(toHosts[0].Properties).toHaveProperty('SourceSecurityGroupId');
      expect(ingress.every((rule) => rule.Properties.FromPort !== 22)).toBe(true);
      const groups = Object.values(template.findResources('AWS::EC2::SecurityGroup') as Resources);
      for (const group of groups) {
        for (const rule of (group.Properties.SecurityGroupIngress as { FromPort: number }[] | undefined) ??
          []) {
          expect(rule.FromPort).not.toBe(22);
        }
      }
    }
  });

  test('no NAT gateway by default: hosts get a public address in the public subnets for egress', () => {
    for (const [, template] of each()) {
      template.resourceCountIs('AWS::EC2::NatGateway', 0);
      template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
        LaunchTemplateData: { NetworkInterfaces: [Match.objectLike({ AssociatePublicIpAddress: true })] },
      });
      // Nothing else gets a public address by being launched there.
      for (const subnet of Object.values(template.findResources('AWS::EC2::Subnet') as Resources)) {
        expect(subnet.Properties.MapPublicIpOnLaunch).not.toBe(true);
      }
    }
  });

  test('HTTPS without a domain: CloudFront in front of an internal load balancer through a VPC origin, nothing cached, WebSockets and cookies passed', () => {
    for (const [, template] of each()) {
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internal' });
      template.resourceCountIs('AWS::CloudFront::VpcOrigin', 1);
      const distribution = Object.values(
        template.findResources('AWS::CloudFront::Distribution') as Resources,
      )[0].Properties.DistributionConfig as {
        DefaultCacheBehavior: Record<string, unknown>;
        Origins: { VpcOriginConfig?: Record<string, unknown> }[];
      };
      expect(distribution.DefaultCacheBehavior).toMatchObject({
        ViewerProtocolPolicy: 'https-only',
        // The managed policies CachingDisabled and AllViewer (every header, cookie and query string).
        CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
        OriginRequestPolicyId: '216adef6-5c7f-47e4-b989-5492eafa07d3',
      });
      expect(distribution.DefaultCacheBehavior.AllowedMethods).toEqual(expect.arrayContaining(['POST']));
      expect(distribution.Origins[0].VpcOriginConfig).toEqual(
        expect.objectContaining({ OriginReadTimeout: 60, OriginKeepaliveTimeout: 60 }),
      );
    }
  });

  test("the load balancer keeps an idle connection longer than the viewer's keep-alive interval", () => {
    for (const [, template] of each()) {
      const attributes = Object.values(
        template.findResources('AWS::ElasticLoadBalancingV2::LoadBalancer') as Resources,
      )[0].Properties.LoadBalancerAttributes as { Key: string; Value: string }[];
      const idle = Number(attributes.find((a) => a.Key === 'idle_timeout.timeout_seconds')!.Value);
      expect(idle).toBeGreaterThan((2 * ACTIVE_REPORT_INTERVAL_MS) / 1000);
      expect(idle).toBeLessThanOrEqual(4000);
    }
  });

  test('new sessions go to hosts whose health check answers 200; /ping answers from the load balancer', () => {
    for (const [, template] of each()) {
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
        Port: VIEWER_HOST.port,
        HealthCheckPath: VIEWER_HOST.healthPath,
        Matcher: { HttpCode: '200' },
      });
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
        Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: [VIEWER_HOST.pingPath] } }],
        Actions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '204' } }],
      });
    }
  });

  test("with no host in service, CloudFront shows the load balancer's own starting page in place of the 503", () => {
    for (const [, template] of each()) {
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
        Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: [VIEWER_HOST.startingPath] } }],
        Actions: [
          {
            Type: 'fixed-response',
            FixedResponseConfig: {
              StatusCode: '200',
              ContentType: 'text/html',
              MessageBody: VIEWER_STARTING_PAGE,
            },
          },
        ],
      });
      template.hasResourceProperties('AWS::CloudFront::Distribution', {
        DistributionConfig: Match.objectLike({
          CustomErrorResponses: [
            {
              ErrorCode: 503,
              ResponseCode: 503,
              ResponsePagePath: VIEWER_HOST.startingPath,
              ErrorCachingMinTTL: 0,
            },
          ],
        }),
      });
    }
  });

  test('the group checks EC2 health only, so full hosts are not replaced, and drains on the lifecycle hook', () => {
    const { viewerFleet } = defaultPlatformConfig;
    for (const [, template] of each()) {
      template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
        HealthCheckType: 'EC2',
        HealthCheckGracePeriod: Match.anyValue(),
        MinSize: String(viewerFleet.minHosts),
        MaxSize: String(viewerFleet.maxHosts),
      });
      template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', {
        LifecycleHookName: VIEWER_HOST.lifecycleHookName,
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        DefaultResult: 'CONTINUE',
        HeartbeatTimeout: viewerFleet.drainHeartbeatSeconds,
      });
    }
  });

  test('a host enters service, or the warm pool of stopped hosts, only once it says it is ready', () => {
    const { viewerFleet } = defaultPlatformConfig;
    for (const [, template] of each()) {
      template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', {
        LifecycleHookName: VIEWER_HOST.launchHookName,
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
        // One that never gets ready is replaced, never served.
        DefaultResult: 'ABANDON',
        HeartbeatTimeout: 900,
      });
      template.resourceCountIs('AWS::AutoScaling::WarmPool', 1);
      template.hasResourceProperties('AWS::AutoScaling::WarmPool', {
        MinSize: viewerFleet.stoppedHosts,
        MaxGroupPreparedCapacity: viewerFleet.stoppedHosts,
        PoolState: 'Stopped',
        InstanceReusePolicy: { ReuseOnScaleIn: false },
      });
    }
  });

  test("the group carries the fleet's tag, by which the API finds it and may set its capacity", () => {
    for (const [, template] of each()) {
      template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
        Tags: Match.arrayWith([
          { Key: VIEWER_FLEET_TAG, Value: defaultPlatformConfig.name, PropagateAtLaunch: true },
        ]),
      });
    }
  });

  test("the hosts' role holds no right on S3, DynamoDB, KMS or Secrets Manager: only the image, its logs, its metrics and its own group", () => {
    for (const [region, template] of each()) {
      const role = hostRoleId(template);
      const statements = statementsOf(template, role);
      const actions = actionsOf(statements);
      expect(actions.filter((a) => /^(s3|dynamodb|kms|secretsmanager|ssm:PutParameter)/.test(a))).toEqual([]);
      expect(new Set(actions.map((a) => a.split(':')[0]))).toEqual(
        new Set(['ecr', 'logs', 'cloudwatch', 'autoscaling']),
      );
      const metrics = statements.find((s) => actionsOf([s]).includes('cloudwatch:PutMetricData'))!;
      expect(metrics.Condition).toEqual({
        StringEquals: { 'cloudwatch:namespace': viewerMetricNamespace(defaultPlatformConfig.name) },
      });
      const lifecycle = statements.find((s) =>
        actionsOf([s]).includes('autoscaling:CompleteLifecycleAction'),
      )!;
      expect(JSON.stringify(lifecycle.Resource)).toContain(`autoscaling:${region}:`);
      expect(JSON.stringify(lifecycle.Resource)).toContain('autoScalingGroupName/viewer-hosts-');
      // Systems Manager for access: its managed policy, and no other.
      const managed = JSON.stringify(
        (template.findResources('AWS::IAM::Role') as Resources)[role].Properties.ManagedPolicyArns,
      );
      expect(managed).toContain('AmazonSSMManagedInstanceCore');
      expect(managed.match(/iam::aws:policy\//g)).toHaveLength(1);
    }
  });

  test('scaling follows the free slots that hosts publish for their group', () => {
    const namespace = viewerMetricNamespace(defaultPlatformConfig.name);
    for (const [, template] of each()) {
      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm') as Resources);
      const policies = template.findResources('AWS::AutoScaling::ScalingPolicy');
      const scaling = alarms.filter((alarm) =>
        Object.keys(policies).some((id) =>
          JSON.stringify(alarm.Properties.AlarmActions ?? []).includes(`"${id}"`),
        ),
      );
      const onFreeSlots = scaling.filter(
        (alarm) =>
          metricOf(alarm).namespace === namespace && metricOf(alarm).name === VIEWER_HOST.metrics.freeSlots,
      );
      // Add hosts below the warm slots, remove one above them plus a host's slots.
      expect(
        onFreeSlots.map((a) => [a.Properties.ComparisonOperator, a.Properties.Threshold]).sort(),
      ).toEqual([
        [
          'GreaterThanThreshold',
          defaultPlatformConfig.viewerFleet.warmSlots + defaultPlatformConfig.viewerFleet.sessionsPerHost,
        ],
        ['LessThanThreshold', defaultPlatformConfig.viewerFleet.warmSlots],
      ]);
      for (const alarm of onFreeSlots) {
        expect(metricOf(alarm).dimensions).toEqual([
          { Name: VIEWER_HOST.metricDimension, Value: expect.anything() },
        ]);
      }
      // A fleet at zero starts on a request that found no host.
      expect(scaling.map((a) => metricOf(a).name)).toEqual(
        expect.arrayContaining(['HTTPCode_ELB_503_Count', VIEWER_HOST.metrics.sessions]),
      );
      // The schedule: minimum 0 at night, minHosts by day, in the region's time zone.
      template.resourceCountIs('AWS::AutoScaling::ScheduledAction', 2);
    }
  });

  test("each region's viewer image is an asset published to that region's ECR and pulled from there", () => {
    for (const [region, template] of each()) {
      const stackName = `ImagingPlatform-Viewer-${region}`;
      const manifest = JSON.parse(
        fs.readFileSync(path.join(assembly.directory, `${stackName}.assets.json`), 'utf8'),
      ) as {
        dockerImages: Record<
          string,
          { displayName: string; destinations: Record<string, { region: string }> }
        >;
      };
      const images = Object.values(manifest.dockerImages);
      expect(images.map((i) => i.displayName)).toEqual(['Hosts/Image/Asset']);
      expect(Object.values(images[0].destinations).map((d) => d.region)).toEqual([region]);
      const userData = JSON.stringify(
        Object.values(template.findResources('AWS::EC2::LaunchTemplate') as Resources)[0].Properties
          .LaunchTemplateData,
      );
      expect(userData).toContain(`.dkr.ecr.${region}.`);
      expect(userData).toContain(`container-assets-\${AWS::AccountId}-${region}`);
    }
  });

  test('the home region reaches viewer stacks one way: outputs read with Fn::GetStackOutput, the origin published in SSM', () => {
    for (const [region, template] of each()) {
      const text = JSON.stringify(template.toJSON());
      expect(text).toContain(
        JSON.stringify({
          'Fn::GetStackOutput': {
            StackName: 'ImagingPlatform-Api',
            Region: 'eu-central-1',
            OutputName: 'ApiBaseUrl',
          },
        }),
      );
      expect(text).toContain(
        JSON.stringify({
          'Fn::GetStackOutput': {
            StackName: 'ImagingPlatform-Data',
            Region: 'eu-central-1',
            OutputName: 'SessionPublicKeyPem',
          },
        }),
      );
      expect(text).not.toContain('Fn::ImportValue');
      template.hasResourceProperties('AWS::SSM::Parameter', {
        Name: viewerEndpointParameter(defaultPlatformConfig.name),
        Value: { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [Match.anyValue(), 'DomainName'] }]] },
      });
      expect(
        platform.viewers
          .find((s) => s.region === region)!
          .dependencies.map((d) => d.stackName)
          .sort(),
      ).toEqual(['ImagingPlatform-Api', 'ImagingPlatform-Data']);
    }
    // Nothing of the home region depends on a viewer stack.
    for (const stack of [platform.data, platform.api, platform.compute]) {
      expect(stack.dependencies.filter((d) => d instanceof ViewerStack)).toEqual([]);
    }
  });

  test('a dashboard and alarms on an encrypted topic in every region, each alarm naming its runbook section', () => {
    for (const [, template] of each()) {
      template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
      const topics = template.findResources('AWS::SNS::Topic') as Resources;
      expect(Object.keys(topics)).toHaveLength(1);
      const [topicId] = Object.keys(topics);
      expect(topics[topicId].Properties).toHaveProperty('KmsMasterKeyId');
      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm') as Resources).filter(
        (a) => JSON.stringify(a.Properties.AlarmActions ?? []).includes(topicId),
      );
      expect(alarms).toHaveLength(3);
      for (const alarm of alarms) {
        expect(alarm.Properties.AlarmDescription).toMatch(
          /\. What to do: docs\/operations\.md#viewer-[a-z-]+$/,
        );
        expect(JSON.stringify(alarm.Properties.OKActions)).toContain(topicId);
      }
      const body = JSON.stringify(
        Object.values(template.findResources('AWS::CloudWatch::Dashboard') as Resources)[0].Properties
          .DashboardBody,
      );
      for (const metric of [
        ...Object.values(VIEWER_HOST.metrics),
        'HTTPCode_ELB_5XX_Count',
        'UnHealthyHostCount',
        'GroupInServiceInstances',
      ]) {
        expect(body).toContain(metric);
      }
      expect(body).toContain('p95');
    }
  });

  test('cdk-nag reports nothing unacknowledged in the viewer stacks', () => {
    const findings = securityChecks(app).flatMap((pack) =>
      pack
        .validateScope(app)
        .violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`)),
    );
    expect(findings.filter((f) => f.includes('-Viewer-'))).toEqual([]);
  });
});
