import type { Context } from 'aws-lambda';
import { withInvocationMetrics } from './business-metrics';
import { withInvocationKeys } from './logger';

/**
 * Wraps the handler of a function that a queue, a rule or a schedule invokes: each invocation
 * logs with its request id and the keys it appends itself, none of an invocation before it, and
 * publishes the business metrics it recorded when it ends.
 */
export function backgroundHandler<TEvent, TResult>(
  run: (event: TEvent, context?: Context) => Promise<TResult>,
): (event: TEvent, context?: Context) => Promise<TResult> {
  return (event, context) =>
    withInvocationKeys({ requestId: context?.awsRequestId }, () =>
      withInvocationMetrics(() => run(event, context)),
    );
}
