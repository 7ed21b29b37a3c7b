import type { APIGatewayProxyEvent } from 'aws-lambda';
import { VERIFIED_CLAIM } from '../contracts/user-claims';
import { unauthorized } from './api-error';

/** Who is calling, from the Cognito authorizer's claims. */
export interface Caller {
  readonly userId: string;
  readonly email?: string;
  /** Verified researchers get the larger upload quota. */
  readonly verified: boolean;
}

export function callerOf(event: APIGatewayProxyEvent): Caller {
  const claims = event.requestContext.authorizer?.claims as Record<string, string> | undefined;
  const userId = claims?.sub;
  if (!userId || !/^[\w-]{1,128}$/.test(userId)) throw unauthorized('the request carries no valid identity');
  return { userId, email: claims.email, verified: claims[VERIFIED_CLAIM] === 'true' };
}
