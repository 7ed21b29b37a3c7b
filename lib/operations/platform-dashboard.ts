import { Duration, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import {
  BUSINESS_METRICS,
  BusinessMetricName,
  CONVERSION_FAILURE_REASONS,
  JOB_END_STATUSES,
  JOB_QUEUE_KINDS,
  businessMetricNamespace,
} from '../../lambda/contracts/business-metrics';
import { WorkQueue } from '../core/work-queue';

export interface PlatformDashboardProps {
  readonly platformName: string;
  readonly restApi: apigateway.RestApi;
  /** The work queues by what they hold: `{ conversions, builds }`. */
  readonly queues: Readonly<Record<string, WorkQueue>>;
  /** GPU instance families the job queues launch, for the vCPUs they run. */
  readonly gpuInstanceClass?: string;
  /** The metrics the job alarms watch, graphed beside the charges. */
  readonly jobHealth: {
    readonly runnableWait: cloudwatch.IMetric;
    readonly platformFailures: cloudwatch.IMetric;
    readonly bootFailures: cloudwatch.IMetric;
  };
}

const PERIOD = Duration.minutes(5);

/**
 * The home region's dashboard: the API's requests, errors and latency; the functions' errors and
 * throttles; the work queues and their dead letters; GPU vCPUs running; the business metrics
 * that the handlers publish (uploads, conversions, jobs); the jobs waiting and failing that the
 * job alarms watch; and the account's estimated charges this
 * month (billed in us-east-1, once billing alerts are on).
 */
export class PlatformDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: PlatformDashboardProps) {
    super(scope, id);
    const { restApi, queues } = props;
    const region = Stack.of(this).region;
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${props.platformName}-${region}`,
      defaultInterval: Duration.days(1),
    });
    const functions = (metricName: string) =>
      new cloudwatch.MathExpression({
        // Every function of the platform: their names begin with its stacks' names.
        expression: `SUM(SEARCH('{AWS/Lambda,FunctionName} MetricName="${metricName}" ${props.platformName}', 'Sum', 300))`,
        label: metricName,
        period: PERIOD,
      });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'API requests and errors',
        left: [
          restApi.metricCount({ period: PERIOD, statistic: 'Sum', label: 'requests' }),
          restApi.metricClientError({ period: PERIOD, statistic: 'Sum', label: '4xx' }),
          restApi.metricServerError({ period: PERIOD, statistic: 'Sum', label: '5xx' }),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'API latency (ms)',
        left: ['p50', 'p90', 'p99'].map((statistic) =>
          restApi.metricLatency({ period: PERIOD, statistic, label: statistic }),
        ),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Function errors and throttles',
        left: [functions('Errors'), functions('Throttles')],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Work waiting (messages)',
        left: Object.entries(queues).map(([name, q]) =>
          q.queue.metricApproximateNumberOfMessagesVisible({
            period: PERIOD,
            statistic: 'Maximum',
            label: name,
          }),
        ),
        right: Object.entries(queues).map(([name, q]) =>
          q.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            period: PERIOD,
            statistic: 'Maximum',
            label: `${name}: dead letters`,
          }),
        ),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Oldest work waiting (s)',
        left: Object.entries(queues).map(([name, q]) =>
          q.queue.metricApproximateAgeOfOldestMessage({ period: PERIOD, statistic: 'Maximum', label: name }),
        ),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'GPU vCPUs running (on demand)',
        left: [
          new cloudwatch.Metric({
            namespace: 'AWS/Usage',
            metricName: 'ResourceCount',
            dimensionsMap: {
              Service: 'EC2',
              Type: 'Resource',
              Resource: 'vCPU',
              Class: `${props.gpuInstanceClass ?? 'G'}/OnDemand`,
            },
            period: PERIOD,
            statistic: 'Maximum',
            label: 'vCPUs',
          }),
        ],
        width: 8,
      }),
    );
    const business = businessMetrics(businessMetricNamespace(props.platformName));
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Uploads completed',
        left: [business.sum('UploadsCompleted', {}, 'uploads')],
        right: [business.sum('UploadBytes', {}, 'bytes')],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Images and conversions',
        left: [
          business.sum('ImagesCreated', {}, 'images created'),
          business.sum('ConversionsSucceeded', {}, 'converted'),
          business.sum('ConversionsFailed', {}, 'failed'),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Conversion time (s), by converter',
        left: ['p50', 'p90'].map((statistic) => business.byService('ConversionSeconds', statistic)),
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Conversion failures by reason',
        left: CONVERSION_FAILURE_REASONS.map((reason) =>
          business.sum('ConversionsFailed', { Reason: reason }, reason),
        ),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Jobs submitted by queue',
        left: JOB_QUEUE_KINDS.map((queue) => business.sum('JobsSubmitted', { Queue: queue }, queue)),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Jobs ended by status and queue',
        left: JOB_END_STATUSES.flatMap((status) =>
          JOB_QUEUE_KINDS.map((queue) =>
            business.sum('JobsEnded', { Status: status, Queue: queue }, `${status} (${queue})`),
          ),
        ),
        width: 8,
      }),
    );
    const { jobHealth } = props;
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Jobs waiting RUNNABLE (oldest, s) and failing by the platform',
        left: [jobHealth.runnableWait],
        right: [jobHealth.platformFailures, jobHealth.bootFailures],
        width: 16,
      }),
      new cloudwatch.SingleValueWidget({
        title: 'Estimated charges this month (USD, the whole account)',
        metrics: [
          new cloudwatch.Metric({
            namespace: 'AWS/Billing',
            metricName: 'EstimatedCharges',
            dimensionsMap: { Currency: 'USD' },
            region: 'us-east-1',
            period: Duration.hours(6),
            statistic: 'Maximum',
          }),
        ],
        width: 8,
      }),
    );
  }
}

/**
 * Graphs of the business metrics in `namespace`. Every metric carries the `service` dimension of
 * the function or container that published it (ConversionsSucceeded comes from the converter
 * function and the converter container, JobsEnded from whichever handler ended the job), so
 * a line is a SEARCH over the services, for one fixed value of each other dimension.
 */
function businessMetrics(namespace: string) {
  const search = (
    metricName: BusinessMetricName,
    dimensions: Readonly<Record<string, string>>,
    statistic: string,
  ) => {
    const names = [...Object.keys(BUSINESS_METRICS[metricName].dimensions), 'service'].sort();
    const schema = [`"${namespace}"`, ...names].join(',');
    const filters = Object.entries(dimensions)
      .map(([name, value]) => ` ${name}="${value}"`)
      .join('');
    return `SEARCH('{${schema}} MetricName="${metricName}"${filters}', '${statistic}', ${PERIOD.toSeconds()})`;
  };
  return {
    /** The sum over every service of `metricName`, with every dimension it does not fix summed too. */
    sum: (metricName: BusinessMetricName, dimensions: Readonly<Record<string, string>>, label: string) =>
      new cloudwatch.MathExpression({
        expression: `SUM(${search(metricName, dimensions, 'Sum')})`,
        label,
        period: PERIOD,
      }),
    /** One line per service: statistics such as percentiles do not add up across them. */
    byService: (metricName: BusinessMetricName, statistic: string) =>
      new cloudwatch.MathExpression({
        expression: search(metricName, {}, statistic),
        label: statistic,
        period: PERIOD,
      }),
  };
}
