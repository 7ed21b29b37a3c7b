import { apiHandler } from '../../api/api-handler';
import { parseEnvironment } from '../../contracts/handler-environment';
import { nowSeconds, sessionView } from '../session-record';
import { sessionCredential } from '../session-signer';
import { extendSession, getOwnSession } from '../session-store';
import { operation } from './operation';

parseEnvironment(operation);

/** `POST /v1/sessions/{sessionId}/keep-alive`: 409 once the session has stopped, failed or expired. */
export const handler = apiHandler(operation, async ({ caller, pathParameters }) => {
  const now = nowSeconds();
  const session = await getOwnSession(pathParameters.sessionId, caller.userId);
  const extended = await extendSession(session, caller.userId, now);
  return { status: 200, body: sessionView(extended, now, await sessionCredential(extended, now)) };
});
