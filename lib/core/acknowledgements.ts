import { Stack, Validations } from 'aws-cdk-lib';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';

/**
 * The reasons the platform gives cdk-nag for the findings it accepts, each written once. A
 * suppression sits beside the resource it excuses (`acknowledge`), with a reason that states
 * evidence.
 */
export const REASONS = {
  inlinePolicy:
    'The policy is attached to this one role and holds only the grants of its one holder; a customer-managed policy would carry the same statements.',
  xrayWildcard:
    'Only xray:PutTraceSegments and xray:PutTelemetryRecords use Resource *: X-Ray supports no resource-level permissions for them (Service Authorization Reference).',
  concurrency:
    'Its trigger bounds how many run at once (API Gateway throttling, an SQS event source, EventBridge or CloudFormation); reserving concurrency fails to deploy in new accounts whose concurrency quota is 10, below the 100 unreserved that Lambda keeps.',
  noVpc:
    'The function calls only AWS service APIs over TLS with IAM; it reaches no resource inside a VPC, and a VPC would add NAT or endpoint costs without a network boundary to keep.',
  synchronousDeadLetters:
    'API Gateway invokes the handler synchronously and returns its error to the caller; a dead-letter queue only receives events of asynchronous invocations, so it would stay empty.',
  queueDeadLetters:
    "Invoked by an SQS event source: a failed message returns to its queue, whose redrive policy moves it to the queue's dead-letter queue; a function dead-letter queue only receives asynchronous invocations.",
  customResourceDeadLetters:
    'Every failure is reported to CloudFormation, which shows it in the stack events and rolls back; a queued request could not be replayed once its response URL expires.',
  deadLetterQueue:
    'This is a dead-letter queue; a queue behind it would only move the same failed messages once more.',
} as const;

/** The two rule packs that share their rule names (`LambdaDLQ`, `IAMNoInlinePolicy`, ...). */
const PACKS = ['HIPAA.Security', 'NIST.800.53.R5'];

/** Acknowledges findings on `scope` with the reasons given. */
export function acknowledge(scope: IConstruct, ...findings: { id: string; reason: string }[]): void {
  Validations.of(scope).acknowledge(...findings);
}

/** A rule of both the HIPAA and the NIST pack, with one reason. */
export function acknowledgeHipaaAndNist(scope: IConstruct, rule: string, reason: string): void {
  acknowledge(scope, ...PACKS.map((pack) => ({ id: `${pack}-${rule}`, reason })));
}

/** An inline policy on a role of the platform's own, in both packs. */
export function acknowledgeInlinePolicy(role: IConstruct): void {
  acknowledgeHipaaAndNist(role, 'IAMNoInlinePolicy', REASONS.inlinePolicy);
}

/**
 * A wildcard in a resource ARN granted to `grantee`, whose principal is a role of the app, as
 * cdk-nag quotes it: resolved and flattened the same way, so the acknowledgement names exactly
 * that resource.
 */
export function acknowledgeWildcard(grantee: iam.IGrantable, arn: string, reason: string): void {
  const role = grantee.grantPrincipal;
  if (!Construct.isConstruct(role))
    throw new Error('a wildcard can only be acknowledged on a role of this app');
  acknowledge(role, {
    id: `AwsSolutions-IAM5[Resource::${flattenCfnReference(Stack.of(role).resolve(arn))}]`,
    reason,
  });
}
