import { VIEWER_HOST } from '../../../lambda/contracts/viewer-host';

/** What the host counts between two publications. */
export interface HostSample {
  readonly sessions: number;
  readonly freeSlots: number;
  /** Sessions that could not start since the last sample. */
  readonly sessionStartFailures: number;
  /** Each frame's milliseconds since the last sample. */
  readonly frameMilliseconds: readonly number[];
}

interface Datum {
  MetricName: string;
  Dimensions?: { Name: string; Value: string }[];
  Unit: 'Count' | 'Milliseconds';
  Value?: number;
  Values?: number[];
  Counts?: number[];
}

/** The CloudWatch call the host makes (the SDK's `CloudWatch` client has it). */
export interface MetricCalls {
  putMetricData(input: { Namespace: string; MetricData: Datum[] }): Promise<unknown>;
}

/** CloudWatch takes at most this many distinct values in one datum. */
const VALUES_PER_DATUM = 150;

/**
 * The data of one sample, each metric twice: with the host's Auto Scaling group (what scaling
 * and the per-region alarms read) and without dimension (the region's total). Frame times go
 * as values and counts, rounded to the millisecond, so CloudWatch keeps their percentiles.
 */
export function metricData(sample: HostSample, groupName: string): Datum[] {
  const { metrics, metricDimension } = VIEWER_HOST;
  const counts: Datum[] = [
    { MetricName: metrics.sessions, Unit: 'Count', Value: sample.sessions },
    { MetricName: metrics.freeSlots, Unit: 'Count', Value: sample.freeSlots },
    { MetricName: metrics.sessionStartFailures, Unit: 'Count', Value: sample.sessionStartFailures },
  ];
  const histogram = new Map<number, number>();
  for (const ms of sample.frameMilliseconds) {
    const value = Math.max(0, Math.round(ms));
    histogram.set(value, (histogram.get(value) ?? 0) + 1);
  }
  const entries = [...histogram].sort((a, b) => a[0] - b[0]);
  const frames: Datum[] = [];
  for (let i = 0; i < entries.length; i += VALUES_PER_DATUM) {
    const chunk = entries.slice(i, i + VALUES_PER_DATUM);
    frames.push({
      MetricName: metrics.frameMilliseconds,
      Unit: 'Milliseconds',
      Values: chunk.map(([value]) => value),
      Counts: chunk.map(([, count]) => count),
    });
  }
  const dimension = [{ Name: metricDimension, Value: groupName }];
  return [...counts, ...frames].flatMap((datum) => [{ ...datum, Dimensions: dimension }, datum]);
}

/** Publishes a sample once a minute (and once more as the host stops). */
export function publishHostMetrics(options: {
  readonly cloudWatch: MetricCalls;
  readonly namespace: string;
  readonly groupName: string;
  readonly sample: () => Promise<HostSample>;
  /** @default 60000 */
  readonly intervalMs?: number;
  readonly log?: (message: string) => void;
}): { flush(): Promise<void>; stop(): Promise<void> } {
  const log = options.log ?? ((message: string) => console.error(message));
  const flush = async () => {
    try {
      const data = metricData(await options.sample(), options.groupName);
      // CloudWatch takes at most 1000 data in one call.
      for (let i = 0; i < data.length; i += 1000) {
        await options.cloudWatch.putMetricData({
          Namespace: options.namespace,
          MetricData: data.slice(i, i + 1000),
        });
      }
    } catch (err) {
      log(`metrics not published: ${(err as Error).message}`);
    }
  };
  const timer = setInterval(() => void flush(), options.intervalMs ?? 60_000);
  timer.unref();
  return {
    flush,
    stop: async () => {
      clearInterval(timer);
      await flush();
    },
  };
}
