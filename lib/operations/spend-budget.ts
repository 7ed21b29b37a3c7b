import * as budgets from 'aws-cdk-lib/aws-budgets';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface SpendBudgetProps {
  readonly monthlyUsd: number;
  readonly topic: sns.ITopic;
}

/**
 * The account's monthly cost budget: the alarm topic hears when actual spend passes it, and when
 * AWS forecasts that the month will (the runbook's `spend-over-budget` says what to do). Budgets
 * covers the whole account, not only the platform.
 */
export class SpendBudget extends Construct {
  constructor(scope: Construct, id: string, props: SpendBudgetProps) {
    super(scope, id);
    const notify = (notificationType: 'ACTUAL' | 'FORECASTED') => ({
      notification: {
        notificationType,
        comparisonOperator: 'GREATER_THAN',
        threshold: 100,
        thresholdType: 'PERCENTAGE',
      },
      subscribers: [{ subscriptionType: 'SNS', address: props.topic.topicArn }],
    });
    new budgets.CfnBudget(this, 'Budget', {
      budget: {
        budgetType: 'COST',
        timeUnit: 'MONTHLY',
        budgetLimit: { amount: props.monthlyUsd, unit: 'USD' },
      },
      notificationsWithSubscribers: [notify('ACTUAL'), notify('FORECASTED')],
    });
  }
}
