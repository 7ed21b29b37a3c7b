import { forbidden, unauthorized } from '../../api/api-error';
import { publicApiHandler } from '../../api/api-handler';
import { parseEnvironment } from '../../contracts/handler-environment';
import { CredentialRefused, verifySessionCredential } from '../../contracts/session-credential';
import { MAX_FAILURE_REASON_CHARS, nowSeconds, statusAt } from '../session-record';
import { sessionCredential, sessionKeys } from '../session-signer';
import { endSession, extendSession, getOwnSession } from '../session-store';
import { operation } from './operation';

parseEnvironment(operation);

interface ViewerReportRequest {
  state: 'Running' | 'Active' | 'Failed';
  reason?: string;
}

/**
 * `POST /v1/sessions/{sessionId}/viewer-report`: public, but answers only a viewer holding this
 * session's credential, unexpired and signed with the platform's key (401 otherwise; 403 for a
 * credential of another session). It changes that session alone: its id and owner come from
 * the credential and every write is conditional on both.
 */
export const handler = publicApiHandler<ViewerReportRequest>(
  operation,
  async ({ body, headers, pathParameters }) => {
    const now = nowSeconds();
    const sessionId = pathParameters.sessionId;
    const bearer = /^Bearer (\S+)$/.exec(headers['authorization'] ?? '')?.[1];
    if (!bearer) throw unauthorized('the report carries no session credential (Authorization: Bearer)');
    let userId: string;
    try {
      const { publicKeyPem } = await sessionKeys();
      userId = verifySessionCredential(bearer, publicKeyPem, { sessionId, nowSeconds: now }).userId;
    } catch (err) {
      if (!(err instanceof CredentialRefused)) throw err;
      if (err.reason === 'otherSession') throw forbidden(err.message);
      throw unauthorized(err.message);
    }
    const session = await getOwnSession(sessionId, userId);
    if (body.state === 'Failed') {
      const reason = `the viewer reported: ${body.reason ?? 'no reason given'}`.slice(
        0,
        MAX_FAILURE_REASON_CHARS,
      );
      const ended = await endSession(session, userId, now, 'Failed', reason);
      return { status: 200, body: { status: statusAt(ended, now).status, expiresAt: iso(ended.expiresAt) } };
    }
    // Running or Active: a reader is there, as a keep-alive says (409 once the session has ended).
    const extended = await extendSession(session, userId, now, { status: 'Running' });
    return {
      status: 200,
      body: {
        status: extended.status,
        expiresAt: iso(extended.expiresAt),
        credential: await sessionCredential(extended, now),
      },
    };
  },
);

const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString();
