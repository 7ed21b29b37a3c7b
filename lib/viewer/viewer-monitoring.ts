import { Duration, Stack } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AlarmTopic } from '../operations/alarm-topic';
import { RUNBOOK_SECTIONS } from '../operations/runbook';
import { runbookAlarm } from '../operations/runbook-alarm';
import { ViewerMetrics } from './viewer-metrics';

/** Minutes without a free slot before the alarm says so: longer than a scale-out takes. */
const NO_FREE_SLOTS_MINUTES = 10;
/** Minutes a host may run without its host process reporting: past a restart, not a boot. */
const SILENT_HOST_MINUTES = 10;

export interface ViewerMonitoringProps {
  readonly metrics: ViewerMetrics;
  readonly group: autoscaling.AutoScalingGroup;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /** Encrypts the alarm topic. */
  readonly topicKey: kms.IKey;
  /** Mailed every alarm (`operations.alarmEmails`). */
  readonly alarmEmails: readonly string[];
  /** The dashboard's name. */
  readonly dashboardName: string;
}

/**
 * What operators of one viewer region watch: a dashboard (hosts, sessions, free slots, frame
 * latency, session start failures, the load balancer's errors and unhealthy hosts) and alarms
 * on an encrypted topic, each naming its section of the runbook.
 */
export class ViewerMonitoring extends Construct {
  readonly topic: sns.Topic;
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: ViewerMonitoringProps) {
    super(scope, id);
    const { metrics, group, targetGroup, loadBalancer } = props;
    const region = Stack.of(this).region;
    const minute = Duration.minutes(1);
    this.topic = new AlarmTopic(this, 'Alarms', {
      emails: props.alarmEmails,
      encryptionKey: props.topicKey,
    }).topic;

    const groupMetric = (metricName: string, label: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/AutoScaling',
        metricName,
        dimensionsMap: { AutoScalingGroupName: group.autoScalingGroupName },
        statistic: 'Average',
        period: minute,
        label,
      });
    const inService = groupMetric('GroupInServiceInstances', 'Hosts in service');
    const silentHosts = new cloudwatch.MathExpression({
      expression: 'FILL(inService, 0) - FILL(reporting, 0)',
      usingMetrics: { inService, reporting: metrics.reportingHosts(minute) },
      period: minute,
      label: 'Hosts in service that do not report',
    });

    const topic = this.topic;
    this.alarms = [
      runbookAlarm(this, 'NoFreeSlots', {
        topic,
        metric: metrics.freeSlots(minute),
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
        threshold: 0,
        evaluationPeriods: NO_FREE_SLOTS_MINUTES,
        section: RUNBOOK_SECTIONS.viewerNoFreeSlots,
        what: `Viewer hosts in ${region} have had no free session slot for ${NO_FREE_SLOTS_MINUTES} minutes: new sessions wait or fail`,
      }),
      runbookAlarm(this, 'UnhealthyHosts', {
        topic,
        metric: silentHosts,
        threshold: 1,
        evaluationPeriods: SILENT_HOST_MINUTES,
        section: RUNBOOK_SECTIONS.viewerSilentHosts,
        what: `A viewer host in ${region} has been in service for ${SILENT_HOST_MINUTES} minutes without its host process reporting metrics: it takes no sessions`,
      }),
      runbookAlarm(this, 'SessionStartFailures', {
        topic,
        metric: metrics.sessionStartFailures(Duration.minutes(5)),
        threshold: 1,
        section: RUNBOOK_SECTIONS.viewerSessionStartFailures,
        what: `Viewer sessions in ${region} failed to start or crashed`,
      }),
    ];

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: 'Hosts',
            left: [inService, groupMetric('GroupDesiredCapacity', 'Desired'), metrics.reportingHosts(minute)],
            width: 8,
          }),
          new cloudwatch.GraphWidget({
            title: 'Sessions and free slots',
            left: [metrics.sessions(minute), metrics.freeSlots(minute)],
            width: 8,
          }),
          new cloudwatch.GraphWidget({
            title: 'Frame latency (ms)',
            left: [metrics.frameMilliseconds('p50', minute), metrics.frameMilliseconds('p95', minute)],
            width: 8,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Session start failures',
            left: [metrics.sessionStartFailures(minute)],
            width: 8,
          }),
          new cloudwatch.GraphWidget({
            title: 'Load balancer 5xx',
            left: [
              loadBalancer.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period: minute }),
              loadBalancer.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: minute }),
            ],
            width: 8,
          }),
          new cloudwatch.GraphWidget({
            title: 'Health checks (full or draining hosts answer 503)',
            left: [
              targetGroup.metrics.healthyHostCount({ period: minute }),
              targetGroup.metrics.unhealthyHostCount({ period: minute }),
            ],
            width: 8,
          }),
        ],
        [new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 })],
      ],
    });
  }
}
