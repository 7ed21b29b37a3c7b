import { CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CONVERSION_FAILURE_REASONS, businessMetricNamespace } from '../../lambda/contracts/business-metrics';
import { securityChecks } from '../../lib/core/security-checks';
import { backgroundFunction as batchJobStateChange } from '../../lambda/jobs/batch-job-state-change/function';
import { backgroundFunction as watchRunnableJobs } from '../../lambda/jobs/watch-runnable-jobs/function';
import { RUNBOOK, RUNBOOK_SECTIONS, runbookLink } from '../../lib/operations/runbook';
import { synthPlatform } from '../helpers/synth-platform';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown };

// One synthesis with a budget, subscribers and no tracing, one without: seconds each. The first
// gives the templates of every stack at once.
const { app, platform } = synthPlatform({
  'platform.operations': JSON.stringify({
    alarmEmails: ['ops@example.org'],
    monthlyBudgetUsd: 500,
    detailedApiMetrics: false,
    runnableAlarmMinutes: 45,
    tracing: false,
  }),
});
const { operations } = platform;
const assembly = app.synth();
const templateOf = (stack: Stack) => Template.fromJSON(assembly.getStackByName(stack.stackName).template);
const template = templateOf(operations);
const api = templateOf(platform.api);
const compute = templateOf(platform.compute);
const logicalId = (stack: Stack, element: unknown) => stack.getLogicalId(element as CfnElement);
const topicRef = { Ref: Object.keys(template.findResources('AWS::SNS::Topic'))[0] };
const watched: Stack[] = [platform.data, platform.compute, platform.api];
const alarms = operations.alarms.flatMap((a) => a.alarms);
/** The metric an alarm watches, with its dimensions as tokens of the watched stacks. */
const metricOf = (alarm: cloudwatch.Alarm) => alarm.metric as cloudwatch.Metric;

test('operations live in the home region, in a stack of their own', () => {
  expect(operations.region).toBe(platform.api.region);
  expect(template.toJSON().Resources).toBeDefined();
  template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  template.hasResourceProperties('AWS::CloudWatch::Dashboard', {
    DashboardName: `ImagingPlatform-${platform.api.region}`,
  });
});

test('every queue with a dead-letter queue has an alarm on its dead letters and one on its oldest message', () => {
  const queues = watched
    .flatMap((s) => s.node.findAll())
    .filter((c): c is sqs.Queue => c instanceof sqs.Queue);
  const withDeadLetters = queues.filter((q) => q.deadLetterQueue);
  expect(withDeadLetters.length).toBeGreaterThanOrEqual(2);
  for (const queue of withDeadLetters) {
    const dlqName = queue.deadLetterQueue!.queue.queueName;
    expect(
      alarms.filter(
        (a) =>
          metricOf(a).metricName === 'ApproximateNumberOfMessagesVisible' &&
          metricOf(a).dimensions?.QueueName === dlqName,
      ),
    ).toHaveLength(1);
    expect(
      alarms.filter(
        (a) =>
          metricOf(a).metricName === 'ApproximateAgeOfOldestMessage' &&
          metricOf(a).dimensions?.QueueName === queue.queueName,
      ),
    ).toHaveLength(1);
  }
});

test('every function of every stack has an alarm on its errors and one on its throttles', () => {
  const functions = watched
    .flatMap((s) => s.node.findAll())
    .filter((c): c is lambda.CfnFunction => c instanceof lambda.CfnFunction);
  expect(functions.length).toBeGreaterThan(20);
  for (const fn of functions) {
    for (const metricName of ['Errors', 'Throttles']) {
      expect(
        alarms.filter(
          (a) => metricOf(a).metricName === metricName && metricOf(a).dimensions?.FunctionName === fn.ref,
        ),
      ).toHaveLength(1);
    }
  }
  // The template holds them all: one per function and kind, plus the queues', the API's and the
  // firewall's, and the job alarms.
  const count = Object.keys(template.findResources('AWS::CloudWatch::Alarm')).length;
  expect(count).toBe(alarms.length + operations.jobAlarms.alarms.length);
});

test('the API has alarms on its 5xx rate and p99 latency, the firewall on blocked-request spikes', () => {
  const names = alarms.map((a) => metricOf(a).metricName);
  expect(names).toEqual(expect.arrayContaining(['5XXError', 'Latency', 'BlockedRequests']));
  const latency = alarms.find((a) => metricOf(a).metricName === 'Latency')!;
  expect(metricOf(latency).statistic).toBe('p99');
});

test('every alarm tells the topic, in trouble and out of it, and names its runbook section, which exists', () => {
  const runbook = fs.readFileSync(path.join(__dirname, '..', '..', RUNBOOK), 'utf8');
  const anchors = new Set(
    [...runbook.matchAll(/^#+ (.+)$/gm)].map((m) =>
      m[1]
        .toLowerCase()
        .replace(/[^a-z0-9 -]/g, '')
        .replace(/ /g, '-'),
    ),
  );
  for (const section of Object.values(RUNBOOK_SECTIONS)) expect(anchors).toContain(section);
  const [topic] = Object.keys(template.findResources('AWS::SNS::Topic'));
  const topicRef = { Ref: topic };
  for (const [, alarm] of Object.entries(template.findResources('AWS::CloudWatch::Alarm'))) {
    expect(alarm.Properties.AlarmActions).toEqual([topicRef]);
    expect(alarm.Properties.OKActions).toEqual([topicRef]);
    expect(alarm.Properties.AlarmDescription).toMatch(
      new RegExp(`What to do: ${RUNBOOK}#(${Object.values(RUNBOOK_SECTIONS).join('|')})$`),
    );
  }
});

test("the alarm topic is encrypted with a rotating key of its own, mails its subscribers, and takes only this account's budgets", () => {
  template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
  template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  template.hasResourceProperties('AWS::SNS::Subscription', {
    Protocol: 'email',
    Endpoint: 'ops@example.org',
  });
  template.hasResourceProperties('AWS::SNS::TopicPolicy', {
    PolicyDocument: {
      Statement: Match.arrayWith([
        Match.objectLike({
          Principal: { Service: 'budgets.amazonaws.com' },
          Action: 'sns:Publish',
          Condition: { StringEquals: { 'aws:SourceAccount': Match.anyValue() } },
        }),
      ]),
    },
  });
});

test('every viewer region mails its alarms to the same addresses, through a topic its own key encrypts', () => {
  expect(platform.viewers.length).toBeGreaterThan(0);
  for (const viewer of platform.viewers) {
    const regional = Template.fromStack(viewer);
    regional.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.org',
    });
    regional.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
  }
});

test('the budget is there when configured, telling the topic of actual and forecast spend over it', () => {
  template.hasResourceProperties('AWS::Budgets::Budget', {
    Budget: { BudgetType: 'COST', TimeUnit: 'MONTHLY', BudgetLimit: { Amount: 500, Unit: 'USD' } },
    NotificationsWithSubscribers: [
      Match.objectLike({ Notification: Match.objectLike({ NotificationType: 'ACTUAL', Threshold: 100 }) }),
      Match.objectLike({
        Notification: Match.objectLike({ NotificationType: 'FORECASTED', Threshold: 100 }),
      }),
    ],
  });
  const { platform: unbudgeted } = synthPlatform();
  Template.fromStack(unbudgeted.operations).resourceCountIs('AWS::Budgets::Budget', 0);
  Template.fromStack(unbudgeted.operations).resourceCountIs('AWS::SNS::Subscription', 0);
}, 120_000);

test('cdk-nag finds nothing in the operations stack', () => {
  const findings = securityChecks(app).flatMap((pack) =>
    pack
      .validateScope(app)
      .violations.filter((v) => v.violatingResources.some((r) => r.templatePath?.includes('Operations')))
      .map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.resourceLogicalId).join(', ')}`),
  );
  expect(findings).toEqual([]);
});

test('without tracing, no function or stage is traced, and no role may write traces', () => {
  for (const stack of [platform.data, platform.api]) {
    const stackTemplate = templateOf(stack).toJSON() as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const resources = Object.values(stackTemplate.Resources);
    const functions = resources.filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThan(0);
    expect(functions.filter((f) => f.Properties.TracingConfig)).toEqual([]);
    expect(JSON.stringify(stackTemplate)).not.toContain('xray:');
  }
  api.hasResourceProperties('AWS::ApiGateway::Stage', { TracingEnabled: false });
});

describe('the dashboard graphs the business metrics the handlers publish', () => {
  /** The dashboard's widgets, its references to other resources read as placeholders. */
  const widgets = (() => {
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    const body = dashboard.Properties.DashboardBody as string | { 'Fn::Join': [string, unknown[]] };
    const text =
      typeof body === 'string'
        ? body
        : body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'REF')).join('');
    return (JSON.parse(text) as { widgets: { properties: { title: string; metrics?: unknown[][] } }[] })
      .widgets;
  })();
  /** The expressions a widget graphs, by the label of each. */
  const expressionsOf = (title: string): Record<string, string> => {
    const widget = widgets.find((w) => w.properties.title === title);
    expect(widget).toBeDefined();
    return Object.fromEntries(
      (widget!.properties.metrics ?? []).map((line) => {
        const options = line[0] as { expression: string; label: string };
        return [options.label, options.expression];
      }),
    );
  };
  // The namespace the functions are given (their BUSINESS_METRIC_NAMESPACE), from the same contract.
  const namespace = businessMetricNamespace('ImagingPlatform');
  const sumOf = (schema: string, metric: string, filters = '') =>
    `SUM(SEARCH('{"${namespace}",${schema}} MetricName="${metric}"${filters}', 'Sum', 300))`;

  test("in the namespace every function's environment names", () => {
    const functions = Object.values(
      Template.fromStack(platform.api).findResources('AWS::Lambda::Function'),
    ) as { Properties: { Environment?: { Variables?: Record<string, string> } } }[];
    const namespaces = new Set(
      functions.map((f) => f.Properties.Environment?.Variables?.BUSINESS_METRIC_NAMESPACE),
    );
    expect([...namespaces]).toEqual([namespace]);
  });

  test('beside them, the metrics the job alarms watch: the oldest RUNNABLE wait, failures by the platform and at boot', () => {
    const widget = widgets.find((w) => w.properties.title.startsWith('Jobs waiting RUNNABLE'));
    expect(widget).toBeDefined();
    const graphed = (widget!.properties.metrics ?? []).map((line) => line.slice(0, 2));
    expect(graphed).toEqual([
      ['ImagingPlatform/Jobs', 'OldestRunnableJobSeconds'],
      ['ImagingPlatform/Jobs', 'JobsFailedByThePlatform'],
      ['ImagingPlatform/Jobs', 'JobInstanceBootFailures'],
    ]);
  });

  test('uploads, images created, conversions and their time', () => {
    expect(expressionsOf('Uploads completed')).toEqual({
      uploads: sumOf('service', 'UploadsCompleted'),
      bytes: sumOf('service', 'UploadBytes'),
    });
    expect(expressionsOf('Images and conversions')).toEqual({
      'images created': sumOf('service', 'ImagesCreated'),
      converted: sumOf('service', 'ConversionsSucceeded'),
      failed: sumOf('Reason,service', 'ConversionsFailed'),
    });
    expect(expressionsOf('Conversion time (s), by converter')).toEqual({
      p50: `SEARCH('{"${namespace}",service} MetricName="ConversionSeconds"', 'p50', 300)`,
      p90: `SEARCH('{"${namespace}",service} MetricName="ConversionSeconds"', 'p90', 300)`,
    });
  });

  test('conversion failures, one line for each reason', () => {
    expect(expressionsOf('Conversion failures by reason')).toEqual(
      Object.fromEntries(
        CONVERSION_FAILURE_REASONS.map((reason) => [
          reason,
          sumOf('Reason,service', 'ConversionsFailed', ` Reason="${reason}"`),
        ]),
      ),
    );
  });

  test('jobs submitted by queue and ended by status and queue', () => {
    expect(expressionsOf('Jobs submitted by queue')).toEqual({
      gpu: sumOf('Queue,service', 'JobsSubmitted', ' Queue="gpu"'),
      cpu: sumOf('Queue,service', 'JobsSubmitted', ' Queue="cpu"'),
    });
    const ended = expressionsOf('Jobs ended by status and queue');
    expect(Object.keys(ended)).toHaveLength(6);
    expect(ended['Cancelled (gpu)']).toBe(
      sumOf('Queue,Status,service', 'JobsEnded', ' Status="Cancelled" Queue="gpu"'),
    );
    expect(ended['Failed (cpu)']).toBe(
      sumOf('Queue,Status,service', 'JobsEnded', ' Status="Failed" Queue="cpu"'),
    );
  });
});

/** The metric filter with this pattern, and the alarm on its metric. */
function filterAndAlarm(pattern: string) {
  const filters = Object.values(
    template.findResources('AWS::Logs::MetricFilter', {
      Properties: { FilterPattern: pattern },
    }) as Resources,
  );
  expect(filters).toHaveLength(1);
  const filter = filters[0].Properties as {
    LogGroupName: unknown;
    MetricTransformations: { MetricName: string; MetricNamespace: string; MetricValue: string }[];
  };
  const [metric] = filter.MetricTransformations;
  expect(metric.MetricNamespace).toBe('ImagingPlatform/Jobs');
  const alarms = Object.values(
    template.findResources('AWS::CloudWatch::Alarm', {
      Properties: { MetricName: metric.MetricName, Namespace: metric.MetricNamespace },
    }) as Resources,
  );
  expect(alarms).toHaveLength(1);
  const alarm = alarms[0].Properties;
  expect(alarm.AlarmActions).toEqual([topicRef]);
  expect(alarm.OKActions).toEqual([topicRef]);
  return { logGroup: JSON.stringify(filter.LogGroupName), metric, alarm };
}

/** The statements of every policy of the role whose logical id is `roleId`. */
function statementsOf(template: Template, roleId: string): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy') as Resources)
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${roleId}"`))
    .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}
const actionsOf = (statement: Statement) => [statement.Action].flat();

test('a job RUNNABLE longer than operations.runnableAlarmMinutes alarms, on the oldest wait the watcher logs', () => {
  const watcher = platform.api.triggeredFunctions.get(watchRunnableJobs.handler)!.handler;
  const { logGroup, metric, alarm } = filterAndAlarm('{ $.message = "runnable jobs" }');
  expect(logGroup).toContain(logicalId(platform.api, watcher.logGroup.node.defaultChild));
  expect(metric).toMatchObject({
    MetricName: 'OldestRunnableJobSeconds',
    MetricValue: '$.oldestRunnableSeconds',
  });
  expect(alarm).toMatchObject({
    Statistic: 'Maximum',
    Period: 600,
    Threshold: 45 * 60,
    ComparisonOperator: 'GreaterThanThreshold',
    TreatMissingData: 'ignore',
    AlarmDescription: expect.stringMatching(
      new RegExp(`over 45 minutes.*\\. ${runbookLink(RUNBOOK_SECTIONS.jobsWaiting)}$`),
    ),
  });
});

test("one job failed by the platform in 15 minutes alarms; the algorithm's failures are not counted", () => {
  const handler = platform.api.triggeredFunctions.get(batchJobStateChange.handler)!.handler;
  const { logGroup, metric, alarm } = filterAndAlarm(
    '{ ($.message = "job moved") && ($.failedBy = "platform") }',
  );
  expect(logGroup).toContain(logicalId(platform.api, handler.logGroup.node.defaultChild));
  expect(metric).toMatchObject({ MetricName: 'JobsFailedByThePlatform', MetricValue: '1' });
  expect(alarm).toMatchObject({
    Statistic: 'Sum',
    Period: 900,
    Threshold: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    AlarmDescription: expect.stringMatching(
      new RegExp(`\\. ${runbookLink(RUNBOOK_SECTIONS.platformJobFailures)}$`),
    ),
  });
});

test('two job instances shut down by their boot hooks in 30 minutes alarm', () => {
  const bootLogs = platform.compute.algorithms.bootFailureLogGroup;
  const { logGroup, metric, alarm } = filterAndAlarm('{ $.message = "job instance boot hook failed" }');
  expect(logGroup).toContain(logicalId(platform.compute, bootLogs.node.defaultChild));
  expect(metric).toMatchObject({ MetricName: 'JobInstanceBootFailures', MetricValue: '1' });
  expect(alarm).toMatchObject({
    Statistic: 'Sum',
    Period: 1800,
    Threshold: 2,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    AlarmDescription: expect.stringMatching(new RegExp(`\\. ${runbookLink(RUNBOOK_SECTIONS.bootFailures)}$`)),
  });
});

test("the runnable watcher runs every 5 minutes, names the platform's four queues, and may only list and read Batch jobs", () => {
  const watcher = platform.api.triggeredFunctions.get(watchRunnableJobs.handler)!.handler;
  const functionId = logicalId(platform.api, watcher.function.node.defaultChild);
  api.hasResourceProperties('AWS::Events::Rule', {
    ScheduleExpression: 'rate(5 minutes)',
    Targets: Match.arrayWith([Match.objectLike({ Arn: { 'Fn::GetAtt': [functionId, 'Arn'] } })]),
  });
  const variables = (api.findResources('AWS::Lambda::Function') as Resources)[functionId].Properties
    .Environment as { Variables: Record<string, unknown> };
  expect(variables.Variables).toMatchObject({
    GPU_JOB_QUEUE: 'ImagingPlatform-gpu-jobs',
    CPU_JOB_QUEUE: 'ImagingPlatform-cpu-jobs',
    CONVERTER_JOB_QUEUE: 'ImagingPlatform-conversion-jobs',
    INPUT_STAGING_JOB_QUEUE: 'ImagingPlatform-job-input-staging',
  });
  const statements = statementsOf(api, logicalId(platform.api, watcher.role.node.defaultChild));
  const batch = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('batch:')));
  // One statement on '*', shared with X-Ray's, which name no resource either.
  expect(batch).toHaveLength(1);
  expect(batch[0].Resource).toBe('*');
  expect(
    actionsOf(batch[0])
      .filter((a) => !a.startsWith('xray:'))
      .sort(),
  ).toEqual(['batch:DescribeJobs', 'batch:ListJobs']);
  // Besides: its own logs, X-Ray, and its dead-letter queue (events that failed every retry).
  const others = statements.filter((s) => !batch.includes(s)).flatMap(actionsOf);
  for (const action of others)
    expect(action).toMatch(
      /^(logs:(CreateLogStream|PutLogEvents)|xray:Put\w+|sqs:SendMessage|kms:(GenerateDataKey|Decrypt))$/,
    );
});

test('job instances may write only to the boot failure log group, which their boot hooks name', () => {
  const { algorithms } = platform.compute;
  const groupId = logicalId(platform.compute, algorithms.bootFailureLogGroup.node.defaultChild);
  compute.hasResource('AWS::Logs::LogGroup', {
    Properties: Match.objectLike({
      LogGroupName: Match.anyValue(),
      KmsKeyId: Match.anyValue(),
      RetentionInDays: 365,
    }),
    DeletionPolicy: 'Retain',
  });
  const logs = statementsOf(
    compute,
    logicalId(platform.compute, algorithms.roles.instanceRole.node.defaultChild),
  ).filter((s) => actionsOf(s).some((a) => a.startsWith('logs:')));
  expect(logs).toHaveLength(1);
  expect(actionsOf(logs[0]).sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
  expect(JSON.stringify(logs[0].Resource)).toContain(groupId);
  const launchTemplate = Object.values(compute.findResources('AWS::EC2::LaunchTemplate') as Resources)[0];
  const userData = launchTemplate.Properties.LaunchTemplateData as {
    UserData: { 'Fn::Base64': { 'Fn::Join': [string, unknown[]] } };
  };
  const parts = userData.UserData['Fn::Base64']['Fn::Join'][1];
  // Both hooks report, to the group, by its name.
  const named = parts.flatMap((part, i) =>
    typeof part === 'string' && part.endsWith("group='") ? [parts[i + 1]] : [],
  );
  expect(named).toEqual([{ Ref: groupId }, { Ref: groupId }]);
});
