import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { letLogsUse } from '../core/key-policies';

export interface ViewerKeyProps {
  /** Alias, so operators find the key in the console. */
  readonly alias: string;
}

/**
 * The KMS key of one viewer region: it encrypts that region's log groups and its alarm topic,
 * nothing of the platform's data (which stays in the home region under the platform key). The
 * hosts hold no right on it: CloudWatch Logs and CloudWatch alarms (`AlarmTopic`) use it as
 * themselves.
 */
export class ViewerKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: ViewerKeyProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      alias: props.alias,
      description: "Encrypts the logs and the alarm topic of the imaging platform's viewers in this region",
      enableKeyRotation: true,
      rotationPeriod: Duration.days(365),
      pendingWindow: Duration.days(30),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    letLogsUse(this.key);
  }
}
