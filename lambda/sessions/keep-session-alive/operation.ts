import { apiOperation, schemaRef } from '../../contracts/handler-deployment';
import { sessionsSchemas } from '../schemas';

export const operation = apiOperation(
  'sessions/keep-session-alive',
  'POST /v1/sessions/{sessionId}/keep-alive',
  {
    summary:
      'Extend a running viewer session to 5 minutes from now, up to its cap; answers it with a fresh credential',
    responses: { 200: schemaRef(sessionsSchemas, 'Session') },
    permissions: {
      tables: {
        sessions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        // Extended with the session; freed when it turns out to have ended.
        sessionSlots: ['dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      },
      signsImageUrls: true,
      signsSessionCredentials: true,
    },
  },
);
