import { Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { PlatformConfig } from '../config/platform-config';
import { backgroundFunction as batchJobStateChange } from '../../lambda/jobs/batch-job-state-change/function';
import { backgroundFunction as watchRunnableJobs } from '../../lambda/jobs/watch-runnable-jobs/function';
import { AlarmTopic } from '../operations/alarm-topic';
import { JobAlarms } from '../operations/job-alarms';
import { PlatformDashboard } from '../operations/platform-dashboard';
import { SpendBudget } from '../operations/spend-budget';
import { StackAlarms } from '../operations/stack-alarms';
import { ApiStack } from './api-stack';
import { ComputeStack } from './compute-stack';
import { DataStack } from './data-stack';

export interface OperationsStackProps extends StackProps {
  readonly config: PlatformConfig;
  readonly data: DataStack;
  readonly compute: ComputeStack;
  readonly api: ApiStack;
}

/**
 * How an operator watches the home region: the alarms on what the other stacks hold and on how
 * jobs run, to one encrypted topic; the dashboard; the spend budget. A stack of its own, built last, so that its
 * alarms find everything and count against no other stack's resource limit.
 */
export class OperationsStack extends Stack {
  readonly alarmTopic: AlarmTopic;
  readonly alarms: StackAlarms[];
  readonly jobAlarms: JobAlarms;

  constructor(scope: Construct, id: string, props: OperationsStackProps) {
    super(scope, id, props);
    const { config, data, compute, api } = props;
    this.alarmTopic = new AlarmTopic(this, 'AlarmTopic', {
      emails: config.operations.alarmEmails,
      budgets: config.operations.monthlyBudgetUsd !== undefined,
    });
    const { topic } = this.alarmTopic;
    if (config.operations.monthlyBudgetUsd) {
      new SpendBudget(this, 'SpendBudget', { monthlyUsd: config.operations.monthlyBudgetUsd, topic });
    }
    this.alarms = [data, compute, api].map(
      (watched) => new StackAlarms(this, `${watched.node.id.replace(/^.*-/, '')}Alarms`, { watched, topic }),
    );
    const logGroupOf = (handler: string) => {
      const triggered = api.triggeredFunctions.get(handler);
      if (!triggered)
        throw new Error(`the api stack deploys no ${handler}, whose log lines the job alarms count`);
      return triggered.handler.logGroup;
    };
    this.jobAlarms = new JobAlarms(this, 'JobAlarms', {
      topic,
      platformName: config.name,
      runnableAlarmMinutes: config.operations.runnableAlarmMinutes,
      logs: {
        runnableWaits: logGroupOf(watchRunnableJobs.handler),
        jobStates: logGroupOf(batchJobStateChange.handler),
        bootFailures: compute.algorithms.bootFailureLogGroup,
      },
    });
    new PlatformDashboard(this, 'Dashboard', {
      platformName: config.name,
      restApi: api.restApi.restApi,
      queues: { conversions: data.conversionQueue, builds: data.buildQueue },
      jobHealth: this.jobAlarms,
    });
  }
}
