import { Duration } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import { PlatformConfig } from '../config/platform-config';
import { ViewerMetrics } from './viewer-metrics';

/** Time a new host needs before its slots count: boot, Docker, the image, the first health checks. */
const HOST_WARMUP = Duration.minutes(3);

export interface ViewerScalingProps {
  readonly group: autoscaling.AutoScalingGroup;
  readonly metrics: ViewerMetrics;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly fleet: PlatformConfig['viewerFleet'];
  /** The region's time zone for the schedule, when there is one. */
  readonly timeZone?: string;
}

/**
 * How a region's fleet follows its readers, on the free session slots that the hosts publish
 * (step scaling on alarms, rather than target tracking: the goal is a number of free slots, not
 * a ratio, and the band between the two thresholds is one host wide, so it cannot oscillate):
 * - fewer than `warmSlots` free: add the hosts that hold them, before readers wait;
 * - more than `warmSlots` + one host's slots free for ten minutes: remove one host (it drains);
 * - a request that found no host at all (the load balancer answered 503 itself): add one host,
 *   which starts a fleet at zero, at night;
 * - no session for thirty minutes: go down to the minimum, which is 0 only at night.
 * The schedule moves the minimum between `minHosts` by day and 0 by night.
 */
export class ViewerScaling extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly group: autoscaling.AutoScalingGroup;

  constructor(scope: Construct, id: string, props: ViewerScalingProps) {
    super(scope, id);
    this.group = props.group;
    const { fleet, metrics } = props;
    const minute = Duration.minutes(1);
    if (fleet.warmSlots > 0) {
      this.step('WarmSlots', {
        metric: metrics.freeSlots(minute),
        comparison: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        threshold: fleet.warmSlots,
        minutes: 1,
        adjustment: {
          type: autoscaling.AdjustmentType.CHANGE_IN_CAPACITY,
          change: Math.ceil(fleet.warmSlots / fleet.sessionsPerHost),
        },
        description: `Fewer than ${fleet.warmSlots} free session slots: adds hosts before readers wait`,
      });
    }
    this.step('ExcessSlots', {
      metric: metrics.freeSlots(minute),
      comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      threshold: fleet.warmSlots + fleet.sessionsPerHost,
      minutes: 10,
      adjustment: { type: autoscaling.AdjustmentType.CHANGE_IN_CAPACITY, change: -1 },
      description: `More than ${fleet.warmSlots + fleet.sessionsPerHost} free session slots for ten minutes: removes one host, which drains`,
    });
    this.step('NoHost', {
      metric: props.loadBalancer.metrics.custom('HTTPCode_ELB_503_Count', {
        statistic: 'Sum',
        period: minute,
      }),
      comparison: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: 1,
      minutes: 1,
      adjustment: { type: autoscaling.AdjustmentType.CHANGE_IN_CAPACITY, change: 1 },
      description: 'A request found no host to take it (the load balancer answered 503): adds one host',
    });
    this.step('Idle', {
      metric: metrics.sessions(minute),
      comparison: cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: 0,
      minutes: 30,
      adjustment: { type: autoscaling.AdjustmentType.EXACT_CAPACITY, change: 0 },
      description: 'No session for thirty minutes: down to the minimum (0 at night only)',
    });

    if (fleet.schedule) {
      props.group.scaleOnSchedule('Night', {
        schedule: autoscaling.Schedule.expression(fleet.schedule.nightStarts),
        timeZone: props.timeZone,
        minCapacity: 0,
      });
      props.group.scaleOnSchedule('Day', {
        schedule: autoscaling.Schedule.expression(fleet.schedule.dayStarts),
        timeZone: props.timeZone,
        minCapacity: fleet.minHosts,
      });
    }
  }

  /** An alarm and the one step it takes, over the whole interval past its threshold. */
  private step(
    id: string,
    props: {
      metric: cloudwatch.IMetric;
      comparison: cloudwatch.ComparisonOperator;
      threshold: number;
      minutes: number;
      adjustment: { type: autoscaling.AdjustmentType; change: number };
      description: string;
    },
  ): void {
    const scope = new Construct(this, id);
    const action = new autoscaling.StepScalingAction(scope, 'Action', {
      autoScalingGroup: this.group,
      adjustmentType: props.adjustment.type,
      estimatedInstanceWarmup: HOST_WARMUP,
      metricAggregationType: autoscaling.MetricAggregationType.AVERAGE,
    });
    const below =
      props.comparison === cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD ||
      props.comparison === cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD;
    action.addAdjustment(
      below
        ? { adjustment: props.adjustment.change, upperBound: 0 }
        : { adjustment: props.adjustment.change, lowerBound: 0 },
    );
    const alarm = new cloudwatch.Alarm(scope, 'Alarm', {
      metric: props.metric,
      alarmDescription: props.description,
      comparisonOperator: props.comparison,
      threshold: props.threshold,
      evaluationPeriods: props.minutes,
      datapointsToAlarm: props.minutes,
      // No host publishes at zero capacity: no data is no reason to add or remove one.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction({ bind: () => ({ alarmActionArn: action.scalingPolicyArn }) });
    this.alarms.push(alarm);
  }
}
