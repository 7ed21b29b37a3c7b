import * as fs from 'node:fs';
import { BEGIN, END, README, withCostTable } from '../../bin/cost/cost';
import { costMarkdown, costReport } from '../../bin/cost/cost-report';
import { idleCostOf } from '../../bin/cost/idle-cost';
import { HOURS_PER_MONTH, pricesIn } from '../../bin/cost/prices';

// The estimate reads what `cdk synth` writes: one synthesis per configuration, seconds each.
let byDefault: ReturnType<typeof costReport>;
beforeAll(() => {
  byDefault = costReport();
}, 120_000);

test("the README's cost table is what npm run cost prints for the default configuration", () => {
  const readme = fs.readFileSync(README, 'utf8');
  const table = costMarkdown(byDefault);
  expect(withCostTable(readme, table)).toBe(readme);
  expect(readme.slice(readme.indexOf(BEGIN), readme.indexOf(END))).toContain('| all stacks');
}, 120_000);

test('the estimate follows the configuration: another GPU type and one zone fewer change what they cost', () => {
  const larger = costReport({
    'platform.compute': JSON.stringify({ gpuInstanceTypes: ['g4dn.2xlarge'], availabilityZones: 1 }),
  });
  const jobHour = (report: typeof byDefault) => report.marginal.find((m) => m.what.includes('GPU job-hour'))!;
  expect(jobHour(byDefault).what).toContain('g4dn.xlarge');
  expect(jobHour(larger).what).toContain('g4dn.2xlarge');
  expect(jobHour(larger).usd - jobHour(byDefault).usd).toBeCloseTo(0.94 - 0.658, 6);
  // One zone: each of the job network's 6 interface endpoints in one zone fewer. (Without an
  // account, synth knows two zones of a region, so three cannot be priced offline.)
  const compute = (report: typeof byDefault) => report.stacks.find((s) => s.stack.endsWith('-Compute'))!;
  expect(compute(byDefault).usdPerMonth - compute(larger).usdPerMonth).toBeCloseTo(6 * 0.012 * 730, 1);
  // Every stack is priced in its own region, and the total is their sum.
  for (const stack of byDefault.stacks) {
    expect(stack.region).toBe(/-Viewer-(.+)$/.exec(stack.stack)?.[1] ?? 'eu-central-1');
  }
  expect(byDefault.usdPerMonth).toBeCloseTo(
    byDefault.stacks.reduce((sum, s) => sum + s.usdPerMonth, 0),
    9,
  );
}, 120_000);

test('a fourth viewer region adds its stack, priced in its region, and its session-hour', () => {
  const regions = ['eu-central-1', 'ap-northeast-1', 'us-east-2', 'eu-west-1'];
  const four = costReport({ 'platform.viewerRegions': JSON.stringify(regions) });
  const added = four.stacks.filter((s) => !byDefault.stacks.some((d) => d.stack === s.stack));
  expect(added.map((s) => [s.stack, s.region])).toEqual([['ImagingPlatform-Viewer-eu-west-1', 'eu-west-1']]);
  expect(four.usdPerMonth - byDefault.usdPerMonth).toBeCloseTo(added[0].usdPerMonth, 6);
  expect(added[0].lines.map((l) => l.what)).toEqual(
    expect.arrayContaining([expect.stringMatching(/^m7i\.2xlarge instances kept running by the schedule/)]),
  );
  expect(four.marginal.map((m) => m.what)).toContainEqual(expect.stringMatching(/session-hour in eu-west-1/));
}, 120_000);

describe('what a template costs idle', () => {
  const prices = pricesIn('ap-northeast-1');
  const template = {
    Resources: {
      Endpoint: {
        Type: 'AWS::EC2::VPCEndpoint',
        Properties: { VpcEndpointType: 'Interface', SubnetIds: ['a', 'b', 'c'] },
      },
      Gateway: { Type: 'AWS::EC2::VPCEndpoint', Properties: { VpcEndpointType: 'Gateway' } },
      Nat: { Type: 'AWS::EC2::NatGateway' },
      Balancer: { Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer', Properties: { Type: 'application' } },
      Hosts: {
        Type: 'AWS::AutoScaling::AutoScalingGroup',
        Properties: { MinSize: '2', LaunchTemplate: { LaunchTemplateId: { Ref: 'HostTemplate' } } },
      },
      HostTemplate: {
        Type: 'AWS::EC2::LaunchTemplate',
        Properties: {
          LaunchTemplateData: {
            InstanceType: 'm7i.2xlarge',
            BlockDeviceMappings: [{ Ebs: { VolumeSize: 30 } }],
            NetworkInterfaces: [{ AssociatePublicIpAddress: true }],
          },
        },
      },
      Alarm: { Type: 'AWS::CloudWatch::Alarm', Properties: {} },
      MathAlarm: {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: { Metrics: [{ MetricStat: {} }, { MetricStat: {} }, { Expression: 'a+b' }] },
      },
      Bucket: { Type: 'AWS::S3::Bucket' },
    },
  };

  test('each billed kind is counted with its price in the region; what bills per use is not', () => {
    const cost = idleCostOf('Viewer', 'ap-northeast-1', template, prices);
    const host = 2 * prices.xlargeHour.m7i + (30 * prices.ebsGp3GbMonth) / HOURS_PER_MONTH + 0.005;
    expect(cost.lines.map((l) => [l.what, l.usdPerMonth.toFixed(6)])).toEqual([
      ['1 interface endpoint, 3 endpoint-zones at 0.014 an hour', (3 * 0.014 * HOURS_PER_MONTH).toFixed(6)],
      ['1 NAT gateway', (0.062 * HOURS_PER_MONTH).toFixed(6)],
      ['1 application load balancer', (0.0243 * HOURS_PER_MONTH).toFixed(6)],
      [
        '2 m7i.2xlarge instances kept running (30 GB gp3, a public IPv4 address each)',
        (2 * host * HOURS_PER_MONTH).toFixed(6),
      ],
      ['2 alarms on 3 metrics', (3 * 0.1).toFixed(6)],
    ]);
    expect(cost.usdPerMonth).toBeCloseTo(
      cost.lines.reduce((sum, l) => sum + l.usdPerMonth, 0),
      9,
    );
  });

  test('a warm pool of stopped instances bills their volumes only, running or not', () => {
    const pooled = structuredClone(template);
    const resources = pooled.Resources as Record<string, { Type: string; Properties?: unknown }>;
    resources.Pool = {
      Type: 'AWS::AutoScaling::WarmPool',
      Properties: { AutoScalingGroupName: { Ref: 'Hosts' }, MinSize: 3, MaxGroupPreparedCapacity: 3 },
    };
    const line = [
      '3 stopped instances in the warm pool (30 GB gp3 each, no instance-hours)',
      (3 * 30 * prices.ebsGp3GbMonth).toFixed(6),
    ];
    const lines = (t: typeof pooled) =>
      idleCostOf('Viewer', 'ap-northeast-1', t, prices).lines.map((l) => [l.what, l.usdPerMonth.toFixed(6)]);
    expect(lines(pooled)).toContainEqual(line);
    // A group at zero by day and night still pays for its stopped instances.
    pooled.Resources.Hosts.Properties.MinSize = '0';
    expect(lines(pooled)).toContainEqual(line);
  });

  test('an instance type or region the table does not price is an error naming it', () => {
    const unpriced = structuredClone(template);
    unpriced.Resources.HostTemplate.Properties.LaunchTemplateData.InstanceType = 'x2iedn.metal';
    expect(() => idleCostOf('Viewer', 'ap-northeast-1', unpriced, prices)).toThrow(
      'the price table has no price for x2iedn.metal in ap-northeast-1: add it to bin/cost/prices.ts',
    );
    expect(() => pricesIn('me-central-1')).toThrow('the price table has no prices for me-central-1');
  });
});
