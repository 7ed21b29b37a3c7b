import { apiOperation, schemaRef } from '../../contracts/handler-deployment';
import { VIEWER_SESSIONS } from '../../contracts/viewer-sessions';
import { sessionsSchemas } from '../schemas';

export const operation = apiOperation('sessions/list-viewer-regions', 'GET /v1/viewer-regions', {
  summary:
    'The viewer regions with the URL to ping in each: a client pings each twice, keeps the fastest, and names that region when it starts a session',
  responses: { 200: schemaRef(sessionsSchemas, 'ViewerRegions') },
  permissions: { readsViewerEndpoints: true },
  settings: [VIEWER_SESSIONS],
});
