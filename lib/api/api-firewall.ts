import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { nameUniqueToStack } from '../core/stack-unique-name';

export interface ApiFirewallProps {
  /** The API stage that the web ACL protects. */
  readonly stage: apigateway.Stage;
  /** Encrypts the log group of the web ACL. */
  readonly logEncryptionKey: kms.IKey;
  /** Days that the web ACL's logs are kept. */
  readonly logRetentionDays: number;
  /**
   * Requests that one IP address may send in any 5 minutes before it is blocked for a while.
   * Generous, since a university's researchers may share one address.
   * @default 3000
   */
  readonly requestsPerAddressPer5Minutes?: number;
}

/** Key of the body that rate-limited requests get: the API's error shape, with status 429. */
const RATE_LIMITED_BODY = 'rate-limited';

/**
 * A regional AWS WAF web ACL in front of the API stage: AWS's managed rules for common attacks,
 * known bad inputs and addresses with a bad reputation, and a rate limit per IP address. Every
 * decision is logged, with the Authorization header redacted.
 */
export class ApiFirewall extends Construct {
  readonly webAcl: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: ApiFirewallProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const metricPrefix = stack.stackName.replace(/[^\w-]/g, '');
    const visibility = (name: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
      metricName: `${metricPrefix}-${name}`,
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
    });
    const managedRuleGroup = (
      name: string,
      priority: number,
      ruleActionOverrides?: wafv2.CfnWebACL.RuleActionOverrideProperty[],
    ): wafv2.CfnWebACL.RuleProperty => ({
      name,
      priority,
      statement: { managedRuleGroupStatement: { vendorName: 'AWS', name, ruleActionOverrides } },
      overrideAction: { none: {} },
      visibilityConfig: visibility(name),
    });

    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      // Named, so that its metrics' dimension is known where alarms are made, not parsed from its Ref.
      name: `${Stack.of(this).stackName}-api`,
      scope: 'REGIONAL',
      description: 'Protects the imaging platform REST API',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('WebAcl'),
      customResponseBodies: {
        [RATE_LIMITED_BODY]: {
          contentType: 'APPLICATION_JSON',
          content: JSON.stringify({
            error: {
              code: 'Throttled',
              message: 'too many requests from this address; retry in a few minutes',
            },
          }),
        },
      },
      rules: [
        {
          name: 'RequestsPerAddress',
          priority: 0,
          statement: {
            rateBasedStatement: {
              aggregateKeyType: 'IP',
              limit: props.requestsPerAddressPer5Minutes ?? 3000,
              evaluationWindowSec: 300,
            },
          },
          action: {
            block: { customResponse: { responseCode: 429, customResponseBodyKey: RATE_LIMITED_BODY } },
          },
          visibilityConfig: visibility('RequestsPerAddress'),
        },
        managedRuleGroup('AWSManagedRulesAmazonIpReputationList', 1),
        // Completing an upload of 10,000 parts sends about 600 KB of part numbers and ETags, far
        // over this group's 8 KB body limit; the request model already bounds the body's shape.
        managedRuleGroup('AWSManagedRulesCommonRuleSet', 2, [
          { name: 'SizeRestrictions_BODY', actionToUse: { count: {} } },
        ]),
        managedRuleGroup('AWSManagedRulesKnownBadInputsRuleSet', 3),
      ],
    });

    new wafv2.CfnWebACLAssociation(this, 'StageAssociation', {
      resourceArn: props.stage.stageArn,
      webAclArn: this.webAcl.attrArn,
    });

    // AWS WAF delivers only to log groups whose name starts with aws-waf-logs-.
    const logGroup = new logs.LogGroup(this, 'LogGroup', {
      logGroupName: nameUniqueToStack(this, `aws-waf-logs-${metricPrefix}`),
      retention: props.logRetentionDays as logs.RetentionDays,
      encryptionKey: props.logEncryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    new wafv2.CfnLoggingConfiguration(this, 'Logging', {
      resourceArn: this.webAcl.attrArn,
      // The ARN without the trailing :* that logGroupArn carries, which AWS WAF refuses.
      logDestinationConfigs: [
        stack.formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: logGroup.logGroupName,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
      // Bearer tokens stay out of the logs.
      redactedFields: [{ singleHeader: { Name: 'authorization' } }],
    });
  }
}
