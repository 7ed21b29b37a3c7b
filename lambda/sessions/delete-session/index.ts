import { apiHandler } from '../../api/api-handler';
import { parseEnvironment } from '../../contracts/handler-environment';
import { nowSeconds, sessionView } from '../session-record';
import { endSession, getOwnSession } from '../session-store';
import { operation } from './operation';

parseEnvironment(operation);

/** `DELETE /v1/sessions/{sessionId}`: Stopped, its slots freed; a session already ended stays as it ended. */
export const handler = apiHandler(operation, async ({ caller, pathParameters }) => {
  const now = nowSeconds();
  const session = await getOwnSession(pathParameters.sessionId, caller.userId);
  const stopped = await endSession(session, caller.userId, now, 'Stopped');
  return { status: 200, body: sessionView(stopped, now) };
});
