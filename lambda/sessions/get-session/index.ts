import { apiHandler } from '../../api/api-handler';
import { parseEnvironment } from '../../contracts/handler-environment';
import { nowSeconds, sessionView } from '../session-record';
import { getOwnSession } from '../session-store';
import { operation } from './operation';

parseEnvironment(operation);

/** `GET /v1/sessions/{sessionId}`: the session as of now (one past its expiry shows Stopped). */
export const handler = apiHandler(operation, async ({ caller, pathParameters }) => {
  const session = await getOwnSession(pathParameters.sessionId, caller.userId);
  return { status: 200, body: sessionView(session, nowSeconds()) };
});
