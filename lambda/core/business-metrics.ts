import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  BUSINESS_METRICS,
  BusinessMetricDimensions,
  BusinessMetricName,
  BUSINESS_METRIC_NAMESPACE,
  metricPointProblem,
} from '../contracts/business-metrics';
import { logger } from './logger';

/**
 * Records the platform's business metrics (`BUSINESS_METRICS`) for the invocation under way and
 * publishes them when it ends, with Powertools Metrics: embedded metric format lines on stdout,
 * which CloudWatch Logs turns into metrics, so that no API call is made. Each wrapper
 * (`apiHandler`, `backgroundHandler`, `customResourceHandler`) and the converter container run
 * their work in `withInvocationMetrics`.
 *
 * One EMF document gives its dimensions to every metric in it, so the points are kept here until
 * the invocation ends and then published as one document per set of dimensions: a job's queue
 * never lands on an image count recorded beside it.
 */

interface Point {
  readonly name: BusinessMetricName;
  readonly value: number;
  readonly dimensions: Readonly<Record<string, string>>;
}

/** The points of the invocation under way: invocations of one environment never overlap. */
const recorded: Point[] = [];
/** Made at the first publication, after the handler checked its environment (`parseEnvironment`). */
let metrics: Metrics | undefined;

type DimensionsArgument<N extends BusinessMetricName> = keyof BusinessMetricDimensions<N> extends never
  ? []
  : [dimensions: BusinessMetricDimensions<N>];

/**
 * Records `value` of `name` for this invocation, with its dimensions. A point the contract does
 * not allow is left out and logged: metrics never fail the work they describe.
 */
export function recordMetric<N extends BusinessMetricName>(
  name: N,
  value: number,
  ...[dimensions]: DimensionsArgument<N>
): void {
  const given = (dimensions ?? {}) as Readonly<Record<string, string>>;
  const problem = metricPointProblem(name, value, given);
  if (problem) {
    logger.warn('business metric not recorded', { problem });
    return;
  }
  recorded.push({ name, value, dimensions: given });
}

/**
 * Runs one invocation's work: it starts with no point recorded (whatever an earlier invocation
 * left is dropped), and what it records is published when it ends, however it ends.
 */
export async function withInvocationMetrics<T>(run: () => Promise<T>): Promise<T> {
  recorded.length = 0;
  try {
    return await run();
  } finally {
    publishRecorded();
  }
}

function publishRecorded(): void {
  const points = recorded.splice(0);
  if (points.length === 0) return;
  try {
    metrics ??= new Metrics({
      namespace: BUSINESS_METRIC_NAMESPACE.read().businessMetricNamespace,
      serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'imaging-platform',
    });
    const bySet = new Map<string, Point[]>();
    for (const point of points) {
      const key = JSON.stringify(Object.entries(point.dimensions).sort(([a], [b]) => a.localeCompare(b)));
      bySet.set(key, [...(bySet.get(key) ?? []), point]);
    }
    for (const group of bySet.values()) {
      for (const [dimension, value] of Object.entries(group[0].dimensions))
        metrics.addDimension(dimension, value);
      for (const { name, value } of group)
        metrics.addMetric(name, MetricUnit[BUSINESS_METRICS[name].unit], value);
      metrics.publishStoredMetrics();
    }
  } catch (err) {
    metrics?.clearMetrics();
    metrics?.clearDimensions();
    logger.error('business metrics not published', { error: err as Error, metrics: points.length });
  }
}
