import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { letAlarmsUse } from '../core/key-policies';

export interface AlarmTopicProps {
  /** Mailed every alarm (`operations.alarmEmails`); each address confirms once. */
  readonly emails: readonly string[];
  /**
   * Encrypts the notifications.
   * @default - a key of the topic's own
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Whether AWS Budgets publishes to it too (the spend budget's topic).
   * @default false
   */
  readonly budgets?: boolean;
}

/**
 * Where a region's alarms (and the spend budget) tell of trouble: one topic, mailed to the
 * configured addresses, published to only by this account's alarms (and budgets), encrypted with
 * a key that only they and the topic use.
 */
export class AlarmTopic extends Construct {
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    const { account } = Stack.of(this);
    const key =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        description: 'Encrypts the imaging platform alarm notifications',
        enableKeyRotation: true,
      });
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'Imaging platform alarms',
      masterKey: key,
      enforceSSL: true,
    });
    for (const email of props.emails) this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    // The services publish encrypted notifications as themselves.
    letAlarmsUse(key);
    if (!props.budgets) return;
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'BudgetsOfThisAccount',
        principals: [new iam.ServicePrincipal('budgets.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': account } },
      }),
    );
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('budgets.amazonaws.com')],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': account } },
      }),
    );
  }
}
