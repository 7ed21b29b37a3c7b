import { apiOperation, schemaRef } from '../../contracts/handler-deployment';
import { VIEWER_SESSIONS } from '../../contracts/viewer-sessions';
import { commonSchemas } from '../../api/common-schemas';
import { sessionsSchemas } from '../schemas';

export const operation = apiOperation('sessions/create-session', 'POST /v1/sessions', {
  summary:
    'Start a viewer session on images the caller may read (with overlays), or on a job (its inputs with its outputs as overlays); answers its viewer URL and signed credential',
  requestSchema: schemaRef(sessionsSchemas, 'CreateSessionRequest'),
  responses: {
    201: schemaRef(sessionsSchemas, 'Session'),
    // The region's viewer is not deployed.
    503: schemaRef(commonSchemas, 'Error'),
  },
  permissions: {
    tables: {
      images: ['dynamodb:GetItem'],
      // A job's session: the job, and its algorithm for who may see it.
      jobs: ['dynamodb:GetItem'],
      algorithms: ['dynamodb:GetItem'],
      sessions: ['dynamodb:PutItem'],
      // Claimed with a condition; given back when the start fails.
      sessionSlots: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
    },
    signsImageUrls: true,
    signsSessionCredentials: true,
    readsViewerEndpoints: true,
    wakesViewerFleets: true,
  },
  settings: [VIEWER_SESSIONS],
});
