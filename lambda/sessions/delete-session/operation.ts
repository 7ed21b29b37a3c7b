import { apiOperation, schemaRef } from '../../contracts/handler-deployment';
import { sessionsSchemas } from '../schemas';

export const operation = apiOperation('sessions/delete-session', 'DELETE /v1/sessions/{sessionId}', {
  summary: 'Stop a viewer session and free its place in the limits (again: no change)',
  responses: { 200: schemaRef(sessionsSchemas, 'Session') },
  permissions: {
    tables: {
      sessions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      sessionSlots: ['dynamodb:DeleteItem'],
    },
  },
});
