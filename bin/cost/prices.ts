/**
 * The list prices the cost estimate uses: on-demand, Linux, in USD, per region where they differ.
 * Recorded from the AWS pricing pages (aws.amazon.com/<service>/pricing) in December 2026; prices
 * change, so check the AWS Pricing Calculator before budgeting on them.
 */
export const PRICE_SOURCE =
  'AWS public on-demand list prices (aws.amazon.com/<service>/pricing), recorded 2026-12';

export const HOURS_PER_MONTH = 730;

/** Prices that differ by region. */
export interface RegionalPrices {
  /** Interface VPC endpoint, per endpoint per availability zone per hour. */
  readonly interfaceEndpointHour: number;
  readonly natGatewayHour: number;
  readonly applicationLoadBalancerHour: number;
  /** gp3 storage per GB-month. */
  readonly ebsGp3GbMonth: number;
  /** S3 Standard storage per GB-month (first 50 TB). */
  readonly s3StandardGbMonth: number;
  /** CloudWatch Logs ingestion per GB. */
  readonly logIngestionGb: number;
  /** Fargate (x86) per vCPU-hour and per GB-hour. */
  readonly fargateVcpuHour: number;
  readonly fargateGbHour: number;
  /** CloudFront data out per GB to viewers of the region's continent (first 10 TB). */
  readonly cloudFrontGbOut: number;
  /** The `xlarge` size of each instance family per hour; other sizes scale with their vCPUs. */
  readonly xlargeHour: Readonly<Record<string, number>>;
  /** Sizes that do not scale with vCPUs (GPU instances), per hour. */
  readonly instanceHour: Readonly<Record<string, number>>;
}

const US: RegionalPrices = {
  interfaceEndpointHour: 0.01,
  natGatewayHour: 0.045,
  applicationLoadBalancerHour: 0.0225,
  ebsGp3GbMonth: 0.08,
  s3StandardGbMonth: 0.023,
  logIngestionGb: 0.5,
  fargateVcpuHour: 0.04048,
  fargateGbHour: 0.004445,
  cloudFrontGbOut: 0.085,
  xlargeHour: { m6i: 0.192, m7i: 0.2016, c6i: 0.17, c7i: 0.1785, r7i: 0.2646 },
  instanceHour: { 'g4dn.xlarge': 0.526, 'g4dn.2xlarge': 0.752, 'g4dn.4xlarge': 1.204 },
};

export const REGIONAL_PRICES: Readonly<Record<string, RegionalPrices>> = {
  'us-east-1': US,
  'us-east-2': US,
  'eu-central-1': {
    interfaceEndpointHour: 0.012,
    natGatewayHour: 0.052,
    applicationLoadBalancerHour: 0.027,
    ebsGp3GbMonth: 0.0952,
    s3StandardGbMonth: 0.0245,
    logIngestionGb: 0.63,
    fargateVcpuHour: 0.04656,
    fargateGbHour: 0.00511,
    cloudFrontGbOut: 0.085,
    xlargeHour: { m6i: 0.23, m7i: 0.2418, c6i: 0.194, c7i: 0.2037, r7i: 0.3192 },
    instanceHour: { 'g4dn.xlarge': 0.658, 'g4dn.2xlarge': 0.94, 'g4dn.4xlarge': 1.505 },
  },
  'eu-west-1': {
    interfaceEndpointHour: 0.011,
    natGatewayHour: 0.048,
    applicationLoadBalancerHour: 0.0252,
    ebsGp3GbMonth: 0.088,
    s3StandardGbMonth: 0.023,
    logIngestionGb: 0.57,
    fargateVcpuHour: 0.04048,
    fargateGbHour: 0.004445,
    cloudFrontGbOut: 0.085,
    xlargeHour: { m6i: 0.214, m7i: 0.2247, c6i: 0.192, c7i: 0.2016, r7i: 0.2961 },
    instanceHour: { 'g4dn.xlarge': 0.587, 'g4dn.2xlarge': 0.838, 'g4dn.4xlarge': 1.343 },
  },
  'ap-northeast-1': {
    interfaceEndpointHour: 0.014,
    natGatewayHour: 0.062,
    applicationLoadBalancerHour: 0.0243,
    ebsGp3GbMonth: 0.096,
    s3StandardGbMonth: 0.025,
    logIngestionGb: 0.76,
    fargateVcpuHour: 0.05056,
    fargateGbHour: 0.00553,
    cloudFrontGbOut: 0.114,
    xlargeHour: { m6i: 0.248, m7i: 0.2604, c6i: 0.214, c7i: 0.2247, r7i: 0.3528 },
    instanceHour: { 'g4dn.xlarge': 0.71, 'g4dn.2xlarge': 1.015, 'g4dn.4xlarge': 1.625 },
  },
};

/** Prices that are the same in every region these regions cover. */
export const GLOBAL_PRICES = {
  kmsKeyMonth: 1,
  secretMonth: 0.4,
  /** A standard-resolution alarm on one metric. */
  alarmMonth: 0.1,
  /** A custom metric (the first 10,000), in a month it has data. */
  customMetricMonth: 0.3,
  /** Past the three an account gets free. */
  dashboardMonth: 3,
  wafWebAclMonth: 5,
  wafRuleMonth: 1,
  publicIpv4Hour: 0.005,
  lambdaGbSecond: 0.0000166667,
  s3AccelerationGbIn: 0.04,
} as const;

/** vCPUs of a size relative to `xlarge`: `large` 0.5, `2xlarge` 2, `metal` not priced. */
function sizeFactor(size: string): number | undefined {
  if (size === 'large') return 0.5;
  if (size === 'xlarge') return 1;
  const multiple = /^(\d+)xlarge$/.exec(size);
  return multiple ? Number(multiple[1]) : undefined;
}

/** An instance type's price per hour in `region`; throws naming it when the table has no price. */
export function instanceHour(prices: RegionalPrices, instanceType: string, region: string): number {
  const fixed = prices.instanceHour[instanceType];
  if (fixed !== undefined) return fixed;
  const [family, size] = instanceType.split('.');
  const factor = sizeFactor(size ?? '');
  const xlarge = prices.xlargeHour[family];
  if (xlarge === undefined || factor === undefined) {
    throw new Error(
      `the price table has no price for ${instanceType} in ${region}: add it to bin/cost/prices.ts`,
    );
  }
  return xlarge * factor;
}

/** The region's prices; throws naming the region when the table has none. */
export function pricesIn(region: string): RegionalPrices {
  const prices = REGIONAL_PRICES[region];
  if (!prices) {
    throw new Error(`the price table has no prices for ${region}: add them to bin/cost/prices.ts`);
  }
  return prices;
}
