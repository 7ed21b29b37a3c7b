import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { COUNTED_LOG_LINES } from '../../lambda/contracts/counted-log-lines';
import { BOOT_HOOK_FAILED } from '../jobs/boot-failure-report';
import { RUNBOOK_SECTIONS } from './runbook';
import { runbookAlarm } from './runbook-alarm';

export interface JobAlarmsProps {
  readonly topic: sns.ITopic;
  /** The metrics' namespace: the platform's name, so that several platforms share an account. */
  readonly platformName: string;
  /** Minutes a job may wait RUNNABLE before the alarm goes off (`operations.runnableAlarmMinutes`). */
  readonly runnableAlarmMinutes: number;
  /** The log groups whose lines the metrics count. */
  readonly logs: {
    /** The function that logs, every 5 minutes, each Batch queue's RUNNABLE jobs (`watch-runnable-jobs`). */
    readonly runnableWaits: logs.ILogGroup;
    /** The function that moves jobs on Batch's state changes (`batch-job-state-change`). */
    readonly jobStates: logs.ILogGroup;
    /** Where job instances whose boot hook failed tell so (`AlgorithmCompute.bootFailureLogGroup`). */
    readonly bootFailures: logs.ILogGroup;
  };
}

/**
 * The alarms on how jobs run, which Batch publishes no metric for: jobs that wait RUNNABLE too
 * long, jobs that failed by the platform's fault, and job instances that shut themselves down at
 * boot while Batch launches more. Each metric comes from a metric filter on JSON lines that a
 * handler or a boot hook already writes: no API call publishes them, and no handler needs a
 * metrics library for them.
 */
export class JobAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[];
  /** How long the oldest RUNNABLE job of any platform queue has waited (seconds), every 5 minutes. */
  readonly runnableWait: cloudwatch.Metric;
  /** Jobs that ended Failed by the platform's fault. */
  readonly platformFailures: cloudwatch.Metric;
  /** Job instances that shut down because a boot hook failed. */
  readonly bootFailures: cloudwatch.Metric;

  constructor(scope: Construct, id: string, props: JobAlarmsProps) {
    super(scope, id);
    const { topic } = props;
    const namespace = `${props.platformName}/Jobs`;
    const message = (text: string) => logs.FilterPattern.stringValue('$.message', '=', text);
    const count = (
      filterId: string,
      logGroup: logs.ILogGroup,
      filterPattern: logs.IFilterPattern,
      metricName: string,
      metricValue = '1',
    ) =>
      new logs.MetricFilter(this, filterId, {
        logGroup,
        filterPattern,
        metricNamespace: namespace,
        metricName,
        metricValue,
      }).metric();

    this.runnableWait = count(
      'RunnableWaitFilter',
      props.logs.runnableWaits,
      message(COUNTED_LOG_LINES.runnableWait),
      'OldestRunnableJobSeconds',
      '$.oldestRunnableSeconds',
    ).with({ statistic: 'Maximum', period: Duration.minutes(10) });
    this.platformFailures = count(
      'PlatformFailureFilter',
      props.logs.jobStates,
      logs.FilterPattern.all(
        message(COUNTED_LOG_LINES.jobMoved),
        logs.FilterPattern.stringValue('$.failedBy', '=', 'platform'),
      ),
      'JobsFailedByThePlatform',
    ).with({ statistic: 'Sum', period: Duration.minutes(15) });
    this.bootFailures = count(
      'BootFailureFilter',
      props.logs.bootFailures,
      message(BOOT_HOOK_FAILED),
      'JobInstanceBootFailures',
    ).with({ statistic: 'Sum', period: Duration.minutes(30) });

    const minutes = props.runnableAlarmMinutes;
    this.alarms = [
      runbookAlarm(this, 'JobsWaitingRunnable', {
        topic,
        metric: this.runnableWait,
        threshold: minutes * 60,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        // Every queue reports every 5 minutes, so a 10-minute period always holds a report; a
        // late one keeps the alarm as it is rather than clearing it.
        treatMissingData: cloudwatch.TreatMissingData.IGNORE,
        section: RUNBOOK_SECTIONS.jobsWaiting,
        what: `a job of the platform's Batch queues has waited RUNNABLE over ${minutes} minutes: no instance or Fargate capacity can be had for it, or its instances fail to start`,
      }),
      runbookAlarm(this, 'JobsFailedByThePlatform', {
        topic,
        metric: this.platformFailures,
        threshold: 1,
        section: RUNBOOK_SECTIONS.platformJobFailures,
        what: "a job failed in the last 15 minutes by the platform's fault, not its algorithm's: its instance was taken, its inputs were not staged, its image was not pulled, or the runner stopped",
      }),
      runbookAlarm(this, 'JobInstancesFailingAtBoot', {
        topic,
        metric: this.bootFailures,
        threshold: 2,
        section: RUNBOOK_SECTIONS.bootFailures,
        what: 'job instances shut themselves down at boot at least twice in 30 minutes, because a boot hook failed: Batch launches new ones, which fail and bill the same way',
      }),
    ];
  }
}
