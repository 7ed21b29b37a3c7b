import { Duration, Fn, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct, IConstruct } from 'constructs';
import { RUNBOOK_SECTIONS } from './runbook';
import { runbookAlarm, RunbookAlarmProps } from './runbook-alarm';

export interface StackAlarmsProps {
  /** The stack whose resources are watched; the alarms go in the stack of the construct. */
  readonly watched: Stack;
  readonly topic: sns.ITopic;
  /**
   * Oldest a message of a work queue may be before its backlog counts as stuck.
   * @default Duration.minutes(30)
   */
  readonly queueAgeLimit?: Duration;
}

const FIVE_MINUTES = Duration.minutes(5);

/**
 * The alarms each stack gets for what it holds, found in its construct tree so that nothing
 * added later goes unwatched: messages in any dead-letter queue, a work queue's oldest message,
 * each function's errors and throttles, the REST API's 5xx rate and p99 latency, and spikes of
 * requests the web ACL blocks. Created once the watched stack is built.
 */
export class StackAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(
    scope: Construct,
    id: string,
    private readonly props: StackAlarmsProps,
  ) {
    super(scope, id);
    const all = props.watched.node.findAll();
    const ageLimit = props.queueAgeLimit ?? Duration.minutes(30);
    const deadLetterQueues = new Map<string, { queue: sqs.IQueue; of: IConstruct }>();
    for (const c of all) {
      if (c instanceof sqs.Queue && c.deadLetterQueue) {
        deadLetterQueues.set(c.deadLetterQueue.queue.node.path, { queue: c.deadLetterQueue.queue, of: c });
        this.watch(c, 'OldestMessage', {
          metric: c.metricApproximateAgeOfOldestMessage({ period: FIVE_MINUTES, statistic: 'Maximum' }),
          threshold: ageLimit.toSeconds(),
          evaluationPeriods: 3,
          section: RUNBOOK_SECTIONS.queueBacklog,
          what: `the oldest message of ${c.node.path} has waited over ${ageLimit.toMinutes()} minutes: its function is failing, throttled or stopped`,
        });
      }
      if (c instanceof lambda.Function && c.deadLetterQueue) {
        deadLetterQueues.set(c.deadLetterQueue.node.path, { queue: c.deadLetterQueue, of: c });
      }
    }
    for (const { queue, of } of deadLetterQueues.values()) {
      this.watch(queue, 'Messages', {
        metric: queue.metricApproximateNumberOfMessagesVisible({
          period: FIVE_MINUTES,
          statistic: 'Maximum',
        }),
        threshold: 1,
        section: RUNBOOK_SECTIONS.deadLetters,
        what: `work of ${of.node.path} failed every attempt and waits in its dead-letter queue ${queue.node.path}`,
      });
    }
    for (const c of all) {
      if (c instanceof lambda.CfnFunction) this.watchFunction(c);
      if (c instanceof apigateway.RestApi) this.watchApi(c);
      if (c instanceof wafv2.CfnWebACL && c.scope === 'REGIONAL') this.watchFirewall(c);
    }
  }

  private watchFunction(fn: lambda.CfnFunction): void {
    const metric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/Lambda',
        metricName,
        dimensionsMap: { FunctionName: fn.ref },
        period: FIVE_MINUTES,
        statistic: 'Sum',
      });
    const name = fn.node.scope!.node.path;
    this.watch(fn, 'Errors', {
      metric: metric('Errors'),
      threshold: 1,
      section: RUNBOOK_SECTIONS.functionErrors,
      what: `the function ${name} failed`,
    });
    this.watch(fn, 'Throttles', {
      metric: metric('Throttles'),
      threshold: 1,
      section: RUNBOOK_SECTIONS.functionThrottles,
      what: `the function ${name} was throttled: its reserved or the account's concurrency ran out`,
    });
  }

  private watchApi(api: apigateway.RestApi): void {
    this.watch(api, 'ServerErrorRate', {
      metric: api.metricServerError({ period: FIVE_MINUTES, statistic: 'Average' }),
      // 5XXError is 0 or 1 per request: its average is the share of requests that failed.
      threshold: 0.05,
      evaluationPeriods: 2,
      section: RUNBOOK_SECTIONS.apiServerErrors,
      what: 'over 5 % of API requests answered 5xx for 10 minutes',
    });
    this.watch(api, 'LatencyP99', {
      metric: api.metricLatency({ period: FIVE_MINUTES, statistic: 'p99' }),
      threshold: 5000,
      evaluationPeriods: 3,
      section: RUNBOOK_SECTIONS.apiLatency,
      what: 'the slowest 1 % of API requests took over 5 s for 15 minutes (API Gateway gives up at 29 s)',
    });
  }

  private watchFirewall(acl: wafv2.CfnWebACL): void {
    // The Ref of a web ACL is `name|id|scope`.
    const webAcl = acl.name ?? Fn.select(0, Fn.split('|', acl.ref));
    this.watch(acl, 'BlockedRequests', {
      metric: new cloudwatch.Metric({
        namespace: 'AWS/WAFV2',
        metricName: 'BlockedRequests',
        dimensionsMap: { WebACL: webAcl, Region: Stack.of(this).region, Rule: 'ALL' },
        period: FIVE_MINUTES,
        statistic: 'Sum',
      }),
      threshold: 1000,
      section: RUNBOOK_SECTIONS.firewallBlocks,
      what: 'the web ACL blocked over 1,000 requests in 5 minutes: an attack, a broken client, or a rule too strict',
    });
  }

  private watch(target: IConstruct, kind: string, options: Omit<RunbookAlarmProps, 'topic'>): void {
    this.alarms.push(
      runbookAlarm(this, `${kind}${target.node.addr.slice(0, 10)}`, { ...options, topic: this.props.topic }),
    );
  }
}
