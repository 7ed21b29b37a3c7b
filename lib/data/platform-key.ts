import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { letLogsUse } from '../core/key-policies';

export interface PlatformKeyProps {
  /** Alias, so operators find the key in the console. */
  readonly alias: string;
}

/**
 * The customer-managed KMS key that encrypts imaging data, secrets and logs of the home region.
 * Rotated yearly; retained when the stack is deleted, since data encrypted with it outlives it.
 */
export class PlatformKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: PlatformKeyProps) {
    super(scope, id);
    const { region, account, partition } = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      alias: props.alias,
      description: 'Encrypts imaging data, signing keys and logs of the imaging platform',
      enableKeyRotation: true,
      rotationPeriod: Duration.days(365),
      pendingWindow: Duration.days(30),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // CloudWatch Logs encrypts the platform's log groups with this key, and only those of this account.
    letLogsUse(this.key);
    // EventBridge puts the events its rules could not deliver into the encrypted dead-letter
    // queue, as itself: only for rules of this account.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': account },
          ArnLike: { 'aws:SourceArn': `arn:${partition}:events:${region}:${account}:rule/*` },
        },
      }),
    );
    Validations.of(this).acknowledge({
      id: 'Annotation::@aws-cdk/aws-cloudfront-origins:wildcardKeyPolicyForOac',
      reason:
        'CloudFront may decrypt only through distributions of this account (AWS:SourceArn arn:aws:cloudfront::<account>:distribution/*); naming the one distribution would make a cycle between key, bucket and distribution.',
    });
  }
}
