import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { withInvocationMetrics } from './business-metrics';
import { logger, withInvocationKeys } from './logger';

export interface CustomResourceOutcome {
  readonly status: 'SUCCESS' | 'FAILED';
  readonly physicalResourceId: string;
  readonly reason?: string;
  readonly data?: Record<string, string>;
}

/**
 * Sends a custom resource's outcome to the presigned URL that CloudFormation waits on.
 * Without this call the stack operation hangs for an hour, so it retries briefly on errors.
 */
export async function sendCloudFormationResponse(
  event: CloudFormationCustomResourceEvent,
  outcome: CustomResourceOutcome,
): Promise<void> {
  const body = JSON.stringify({
    Status: outcome.status,
    Reason: outcome.reason ?? outcome.status,
    PhysicalResourceId: outcome.physicalResourceId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    NoEcho: false,
    Data: outcome.data ?? {},
  });
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      // CloudFormation's presigned URL is signed for an empty content type.
      const response = await fetch(event.ResponseURL, {
        method: 'PUT',
        body,
        headers: { 'content-type': '', 'content-length': String(Buffer.byteLength(body)) },
      });
      if (response.ok) return;
      lastError = new Error(`CloudFormation response URL answered ${response.status}`);
    } catch (err) {
      lastError = err;
    }
    await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** attempt));
  }
  throw lastError;
}

/**
 * The Lambda entry of a custom resource: `apply` decides the outcome, and CloudFormation hears it
 * whatever happens, a failure included, with the reason in words. Like every handler, it publishes
 * the business metrics its invocation recorded, and none of an earlier one.
 */
export function customResourceHandler(
  what: string,
  apply: (event: CloudFormationCustomResourceEvent) => Promise<CustomResourceOutcome>,
) {
  return (event: CloudFormationCustomResourceEvent, context?: Context): Promise<void> =>
    withInvocationKeys({ requestId: context?.awsRequestId, stackRequestId: event.RequestId }, async () => {
      let outcome: CustomResourceOutcome;
      try {
        outcome = await withInvocationMetrics(() => apply(event));
      } catch (err) {
        logger.error(`${what} request failed`, { requestType: event.RequestType, error: err as Error });
        outcome = {
          status: 'FAILED',
          // A failed Create needs an id that the rollback's Delete recognises as "nothing made".
          physicalResourceId:
            'PhysicalResourceId' in event ? event.PhysicalResourceId : `failed-${event.RequestId}`,
          reason: (err as Error).message,
        };
      }
      await sendCloudFormationResponse(event, outcome);
    });
}
