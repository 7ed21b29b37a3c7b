import { GLOBAL_PRICES, HOURS_PER_MONTH, instanceHour, RegionalPrices } from './prices';

/** A resource's properties: whatever its type defines, read here only where a price depends on them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Properties = any;

/** A CloudFormation template, as synthesized. */
export interface Template {
  readonly Resources?: Readonly<Record<string, { readonly Type: string; readonly Properties?: Properties }>>;
}

/** What one kind of resource costs a month while nothing is used. */
export interface CostLine {
  readonly what: string;
  readonly usdPerMonth: number;
}

export interface StackCost {
  readonly stack: string;
  readonly region: string;
  readonly lines: readonly CostLine[];
  readonly usdPerMonth: number;
}

/** Custom resources that create a billed secret at deploy, which the template does not hold. */
const SECRETS_MADE_BY: Readonly<Record<string, number>> = {
  // One secret per key generation: each generation still trusted keeps its own.
  'Custom::UrlSigningKeyPair': 1,
  'Custom::SessionSigningKey': 1,
};

/** What a VPC's flow logs ingest a month with no traffic but AWS's own: an assumption, named so. */
export const IDLE_FLOW_LOG_GB = 0.1;

const plural = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;

/**
 * The idle monthly cost of one stack's template in its region: what bills by the hour or the
 * month whether or not anyone uses the platform. Per-request and per-GB charges are not idle
 * costs; the marginal estimate covers them.
 */
export function idleCostOf(
  stack: string,
  region: string,
  template: Template,
  prices: RegionalPrices,
): StackCost {
  const resources = Object.values(template.Resources ?? {});
  const ofType = (type: string) => resources.filter((r) => r.Type === type);
  const lines: CostLine[] = [];
  const add = (what: string, usdPerMonth: number) => {
    if (usdPerMonth > 0) lines.push({ what, usdPerMonth });
  };

  const interfaceEndpoints = ofType('AWS::EC2::VPCEndpoint').filter(
    (r) => r.Properties?.VpcEndpointType === 'Interface',
  );
  const endpointZones = interfaceEndpoints.reduce((n, r) => n + (r.Properties?.SubnetIds?.length ?? 1), 0);
  add(
    `${plural(interfaceEndpoints.length, 'interface endpoint')}, ${plural(endpointZones, 'endpoint-zone')} at ${prices.interfaceEndpointHour} an hour`,
    endpointZones * prices.interfaceEndpointHour * HOURS_PER_MONTH,
  );
  const nats = ofType('AWS::EC2::NatGateway').length;
  add(plural(nats, 'NAT gateway'), nats * prices.natGatewayHour * HOURS_PER_MONTH);
  const albs = ofType('AWS::ElasticLoadBalancingV2::LoadBalancer').filter(
    (r) => (r.Properties?.Type ?? 'application') === 'application',
  ).length;
  add(plural(albs, 'application load balancer'), albs * prices.applicationLoadBalancerHour * HOURS_PER_MONTH);
  for (const line of warmInstances(template.Resources ?? {}, prices, region))
    add(line.what, line.usdPerMonth);
  const keys = ofType('AWS::KMS::Key').length;
  add(plural(keys, 'KMS key'), keys * GLOBAL_PRICES.kmsKeyMonth);
  const secrets =
    ofType('AWS::SecretsManager::Secret').length +
    resources.reduce((n, r) => n + (SECRETS_MADE_BY[r.Type] ?? 0), 0);
  add(plural(secrets, 'Secrets Manager secret'), secrets * GLOBAL_PRICES.secretMonth);
  const acls = ofType('AWS::WAFv2::WebACL');
  const rules = acls.reduce((n, r) => n + (r.Properties?.Rules?.length ?? 0), 0);
  add(
    `${plural(acls.length, 'WAF web ACL')} with ${plural(rules, 'rule')}`,
    acls.length * GLOBAL_PRICES.wafWebAclMonth + rules * GLOBAL_PRICES.wafRuleMonth,
  );
  const alarms = ofType('AWS::CloudWatch::Alarm');
  // A metric math alarm bills each metric it reads.
  const alarmMetrics = alarms.reduce(
    (n, r) => n + Math.max(1, (r.Properties?.Metrics ?? []).filter((m: Properties) => m.MetricStat).length),
    0,
  );
  add(
    `${plural(alarms.length, 'alarm')} on ${plural(alarmMetrics, 'metric')}`,
    alarmMetrics * GLOBAL_PRICES.alarmMonth,
  );
  // Each metric filter publishes a custom metric, billed in a month it has data: counted as if
  // each had (the RUNNABLE wait has data every month; the failures' only when they happen).
  const metricFilters = ofType('AWS::Logs::MetricFilter').length;
  add(`${plural(metricFilters, 'metric')} from log lines`, metricFilters * GLOBAL_PRICES.customMetricMonth);
  const dashboards = ofType('AWS::CloudWatch::Dashboard').length;
  add(
    `${plural(dashboards, 'dashboard')} (an account's first three are free)`,
    dashboards * GLOBAL_PRICES.dashboardMonth,
  );
  const flowLogs = ofType('AWS::EC2::FlowLog').length;
  add(
    `${plural(flowLogs, 'flow log')} at idle (about ${IDLE_FLOW_LOG_GB} GB a month each)`,
    flowLogs * IDLE_FLOW_LOG_GB * prices.logIngestionGb,
  );
  const usdPerMonth = lines.reduce((sum, line) => sum + line.usdPerMonth, 0);
  return { stack, region, lines, usdPerMonth };
}

/** Instances an Auto Scaling group keeps running (its minimum), their volumes and public addresses. */
function warmInstances(
  resources: NonNullable<Template['Resources']>,
  prices: RegionalPrices,
  region: string,
): CostLine[] {
  return Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::AutoScaling::AutoScalingGroup')
    .flatMap(([id, group]) => {
      const minimum = Number(group.Properties?.MinSize ?? 0);
      const hours = runningHours(resources, id, minimum);
      const launchTemplate = resources[group.Properties?.LaunchTemplate?.LaunchTemplateId?.Ref];
      const data = launchTemplate?.Properties?.LaunchTemplateData ?? {};
      const instanceType: string | undefined = data.InstanceType;
      const volumeGb = (data.BlockDeviceMappings ?? []).reduce(
        (n: number, m: Properties) => n + Number(m.Ebs?.VolumeSize ?? 0),
        0,
      );
      const stopped = stoppedInstances(resources, id, volumeGb, prices);
      if (!hours.instanceHours || !instanceType) return stopped;
      const publicIp = (data.NetworkInterfaces ?? []).some(
        (n: Properties) => n.AssociatePublicIpAddress === true,
      );
      const hour =
        instanceHour(prices, instanceType, region) +
        (volumeGb * prices.ebsGp3GbMonth) / HOURS_PER_MONTH +
        (publicIp ? GLOBAL_PRICES.publicIpv4Hour : 0);
      const extras = [
        ...(volumeGb ? [`${volumeGb} GB gp3`] : []),
        ...(publicIp ? ['a public IPv4 address'] : []),
      ];
      return [
        {
          what: `${hours.what(instanceType)}${extras.length ? ` (${extras.join(', ')} each)` : ''}`,
          usdPerMonth: hour * hours.instanceHours,
        },
        ...stopped,
      ];
    });
}

/**
 * The group's warm pool of stopped instances, when it has one of a fixed size (`MinSize` equal to
 * `MaxGroupPreparedCapacity`): a stopped instance bills its volumes only, and gives up its public
 * address.
 */
function stoppedInstances(
  resources: NonNullable<Template['Resources']>,
  groupId: string,
  volumeGb: number,
  prices: RegionalPrices,
): CostLine[] {
  return Object.values(resources)
    .filter(
      (r) => r.Type === 'AWS::AutoScaling::WarmPool' && r.Properties?.AutoScalingGroupName?.Ref === groupId,
    )
    .map((pool) => {
      const count = Number(pool.Properties?.MinSize ?? 0);
      return {
        what: `${plural(count, 'stopped instance')} in the warm pool (${volumeGb} GB gp3 each, no instance-hours)`,
        usdPerMonth: count * volumeGb * prices.ebsGp3GbMonth,
      };
    })
    .filter((line) => line.usdPerMonth > 0);
}

/** Hours in a week, which scheduled actions repeat over. */
const WEEK_HOURS = 7 * 24;

/**
 * Instance-hours a month that a group's minimum keeps running: its `MinSize` all month, or, where
 * scheduled actions change the minimum (none at night), what they leave running over a week.
 */
function runningHours(
  resources: NonNullable<Template['Resources']>,
  groupId: string,
  minimum: number,
): { instanceHours: number; what: (instanceType: string) => string } {
  const schedule = Object.values(resources).filter(
    (r) =>
      r.Type === 'AWS::AutoScaling::ScheduledAction' && r.Properties?.AutoScalingGroupName?.Ref === groupId,
  );
  if (schedule.length === 0) {
    return {
      instanceHours: minimum * HOURS_PER_MONTH,
      what: (type) => `${plural(minimum, `${type} instance`)} kept running`,
    };
  }
  // Each hour of a week takes the minimum of the last action before it; the week is run twice so
  // that the first hours know the minimum the week before left.
  let current = minimum;
  let weekly = 0;
  for (let hour = 0; hour < 2 * WEEK_HOURS; hour++) {
    for (const action of schedule) {
      if (cronMatches(String(action.Properties.Recurrence), hour % WEEK_HOURS)) {
        current = Number(action.Properties.MinSize ?? current);
      }
    }
    if (hour >= WEEK_HOURS) weekly += current;
  }
  const instanceHours = (weekly * HOURS_PER_MONTH) / WEEK_HOURS;
  return {
    instanceHours,
    what: (type) =>
      `${type} instances kept running by the schedule, ${Math.round(instanceHours)} hours a month`,
  };
}

const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** Whether a cron's hour and day-of-week fields (`m h dom mon dow`) match hour `weekHour` (0: Sunday 00:00). */
function cronMatches(cron: string, weekHour: number): boolean {
  const [, hours, , , days] = cron.trim().split(/\s+/);
  return (
    fieldMatches(hours, weekHour % 24, Number) && fieldMatches(days, Math.floor(weekHour / 24), dayNumber)
  );
}

/** A day of the week as cron writes it (`MON`, `1`; Sunday is `0` or `7`) as 0 to 6. */
function dayNumber(day: string): number {
  const named = DAY_NAMES.indexOf(day.toUpperCase());
  return named >= 0 ? named : Number(day) % 7;
}

function fieldMatches(field: string | undefined, value: number, parse: (v: string) => number): boolean {
  if (field === undefined || field === '*' || field === '?') return true;
  return field.split(',').some((part) => {
    const [from, to] = part.split('-').map(parse);
    if (to === undefined) return value === from;
    // A range may wrap past the week's end (FRI-MON).
    return from <= to ? value >= from && value <= to : value >= from || value <= to;
  });
}
