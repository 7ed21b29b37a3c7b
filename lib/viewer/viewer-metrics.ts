import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { VIEWER_HOST } from '../../lambda/contracts/viewer-host';

/**
 * The metrics that a region's hosts publish (VIEWER_HOST.metrics), for their group: each host
 * publishes once a minute, so a one-minute Sum is the fleet's total and a SampleCount is the
 * number of hosts that reported.
 */
export class ViewerMetrics {
  constructor(
    private readonly namespace: string,
    private readonly autoScalingGroupName: string,
  ) {}

  freeSlots(period: Duration): cloudwatch.Metric {
    return this.metric(VIEWER_HOST.metrics.freeSlots, 'Sum', period, 'Free session slots');
  }

  sessions(period: Duration): cloudwatch.Metric {
    return this.metric(VIEWER_HOST.metrics.sessions, 'Sum', period, 'Sessions');
  }

  /** Hosts whose host process reported in the period. */
  reportingHosts(period: Duration): cloudwatch.Metric {
    return this.metric(VIEWER_HOST.metrics.sessions, 'SampleCount', period, 'Hosts reporting');
  }

  sessionStartFailures(period: Duration): cloudwatch.Metric {
    return this.metric(VIEWER_HOST.metrics.sessionStartFailures, 'Sum', period, 'Session start failures');
  }

  frameMilliseconds(statistic: 'p50' | 'p95', period: Duration): cloudwatch.Metric {
    return this.metric(VIEWER_HOST.metrics.frameMilliseconds, statistic, period, `Frame ms ${statistic}`);
  }

  private metric(metricName: string, statistic: string, period: Duration, label: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.namespace,
      metricName,
      dimensionsMap: { [VIEWER_HOST.metricDimension]: this.autoScalingGroupName },
      statistic,
      period,
      label,
    });
  }
}
