import { commonSchemas } from '../../api/common-schemas';
import { apiOperation, schemaRef } from '../../contracts/handler-deployment';
import { sessionsSchemas } from '../schemas';

const error = schemaRef(commonSchemas, 'Error');

export const operation = apiOperation(
  'sessions/report-viewer-state',
  'POST /v1/sessions/{sessionId}/viewer-report',
  {
    summary:
      "A viewer reports its session's state with the session's credential (Authorization: Bearer): Running or Active extend it as a keep-alive does, Failed ends it with a reason",
    // Viewers hold no Cognito identity: the handler checks the session credential instead.
    public: true,
    publicReason:
      'the viewer that reports holds no Cognito identity; the handler refuses every request without a session credential signed by the platform for this very session and unexpired, and changes only that session',
    parameters: [
      {
        name: 'Authorization',
        in: 'header',
        description:
          '`Bearer <session credential>`: the credential of this session, as the viewer received it',
        schema: { type: 'string' },
        required: true,
      },
    ],
    requestSchema: schemaRef(sessionsSchemas, 'ViewerReportRequest'),
    // Public: the API's errors are not added to it, so it declares its own.
    responses: {
      200: schemaRef(sessionsSchemas, 'ViewerReport'),
      ...Object.fromEntries([400, 401, 403, 404, 409, 413].map((status) => [status, error])),
    },
    permissions: {
      tables: {
        sessions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        sessionSlots: ['dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      },
      signsImageUrls: true,
      signsSessionCredentials: true,
    },
  },
);
