import { settingsGroup, text } from './settings';

/**
 * The platform's business metrics: what handlers count and time as they work, and what the
 * operations dashboard graphs. Handlers publish them in CloudWatch's embedded metric format (JSON
 * lines in their logs, no API call); every metric also carries the `service` dimension, the name
 * of the function or container that published it.
 *
 * Each dimension takes values from a small fixed set: every distinct combination is a custom
 * metric that CloudWatch bills, so free text (a reason in words, an id) never becomes one.
 */

/** The CloudWatch namespace of a platform's business metrics: its name (the viewer hosts publish in `<name>/Viewer`). */
export function businessMetricNamespace(platformName: string): string {
  return platformName;
}

/** Where every function and container publishes its business metrics. */
export const BUSINESS_METRIC_NAMESPACE = settingsGroup('the business metrics namespace', {
  businessMetricNamespace: text,
});

/**
 * Why a conversion failed, in categories: the files held no image (`Unreadable`); the converter
 * function threw on every delivery (`RetriesExhausted`); the converter container ran past its
 * time (`TimedOut`), out of memory (`OutOfMemory`), could not start (`CouldNotStart`), exited
 * with an error (`Crashed`), or stopped for another reason (`Other`).
 */
export const CONVERSION_FAILURE_REASONS = [
  'Unreadable',
  'RetriesExhausted',
  'TimedOut',
  'OutOfMemory',
  'CouldNotStart',
  'Crashed',
  'Other',
] as const;
export type ConversionFailureReason = (typeof CONVERSION_FAILURE_REASONS)[number];

/** The Batch queues that run algorithm jobs, by their kind. */
export const JOB_QUEUE_KINDS = ['gpu', 'cpu'] as const;

/** How a job can end. */
export const JOB_END_STATUSES = ['Succeeded', 'Failed', 'Cancelled'] as const;

interface BusinessMetricDefinition {
  /** CloudWatch's name of its unit. */
  readonly unit: 'Count' | 'Seconds' | 'Bytes';
  /** Its dimensions besides `service`, each with every value it may take. */
  readonly dimensions: Readonly<Record<string, readonly string[]>>;
}

/** Every business metric; what one data point of each means is in docs/operations.md. */
export const BUSINESS_METRICS = {
  /** An upload was completed. */
  UploadsCompleted: { unit: 'Count', dimensions: {} },
  /** The size of that upload. */
  UploadBytes: { unit: 'Bytes', dimensions: {} },
  /** An image was queued for conversion. */
  ImagesCreated: { unit: 'Count', dimensions: {} },
  /** An image was converted, by the converter function or container. */
  ConversionsSucceeded: { unit: 'Count', dimensions: {} },
  /** How long that conversion took, from claiming the image to recording it. */
  ConversionSeconds: { unit: 'Seconds', dimensions: {} },
  /** An image was marked Failed, by why. */
  ConversionsFailed: { unit: 'Count', dimensions: { Reason: CONVERSION_FAILURE_REASONS } },
  /** A job was accepted and recorded, by the queue it goes to. */
  JobsSubmitted: { unit: 'Count', dimensions: { Queue: JOB_QUEUE_KINDS } },
  /** A job ended, by how and on which queue: once per job. */
  JobsEnded: { unit: 'Count', dimensions: { Status: JOB_END_STATUSES, Queue: JOB_QUEUE_KINDS } },
} as const satisfies Readonly<Record<string, BusinessMetricDefinition>>;

export type BusinessMetricName = keyof typeof BUSINESS_METRICS;

/** The dimensions a metric is recorded with, each one of its allowed values. */
export type BusinessMetricDimensions<N extends BusinessMetricName> = {
  readonly [
    D in keyof (typeof BUSINESS_METRICS)[N]['dimensions']
  ]: (typeof BUSINESS_METRICS)[N]['dimensions'][D] extends readonly (infer V)[] ? V : never;
};

/**
 * What is wrong with a data point of `name`, or undefined: a dimension missing, unknown or outside
 * its set, or a value that is not a finite number of at least zero.
 */
export function metricPointProblem(
  name: BusinessMetricName,
  value: number,
  dimensions: Readonly<Record<string, string>>,
): string | undefined {
  const allowed: Readonly<Record<string, readonly string[]>> = BUSINESS_METRICS[name].dimensions;
  if (!Number.isFinite(value) || value < 0)
    return `${name} must be a finite number of at least 0, not ${value}`;
  for (const given of Object.keys(dimensions)) {
    if (!(given in allowed)) return `${name} has no dimension ${given}`;
  }
  for (const [dimension, values] of Object.entries(allowed)) {
    const given = dimensions[dimension];
    if (!values.includes(given)) {
      return `${name}'s ${dimension} must be one of ${values.join(', ')}, not ${given === undefined ? 'missing' : `"${given}"`}`;
    }
  }
  return undefined;
}
