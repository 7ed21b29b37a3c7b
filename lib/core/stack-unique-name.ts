import { Fn, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * `prefix` and the id CloudFormation gave the stack when it was created: unique to each creation,
 * so a resource that a deleted stack retained (a log group and its logs) never blocks the stack's
 * redeploy with the same name.
 */
export function nameUniqueToStack(scope: IConstruct, prefix: string): string {
  return `${prefix}-${Fn.select(2, Fn.split('/', Stack.of(scope).stackId))}`;
}
