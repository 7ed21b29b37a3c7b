import { apiOperation, schemaRef } from '../../contracts/handler-deployment';
import { sessionsSchemas } from '../schemas';

export const operation = apiOperation('sessions/get-session', 'GET /v1/sessions/{sessionId}', {
  summary: "A viewer session of the caller's: its state, expiry, viewer URL and images (no credential)",
  responses: { 200: schemaRef(sessionsSchemas, 'Session') },
  permissions: { tables: { sessions: ['dynamodb:GetItem'] } },
});
