import { randomUUID } from 'node:crypto';
import { environmentVariables } from '../../lambda/contracts/handler-environment';
import { operation } from '../../lambda/sessions/create-session/operation';
import { defaultPlatformConfig } from '../../lib/config/platform-config';
import { FunctionError, LocalFunction } from '../../local/functions/local-function';
import { localSettings } from '../../local/local-settings';

// Nothing here is reached: a start without a viewer is refused before any call.
const settings = localSettings(defaultPlatformConfig, {
  bucketName: 'bucket',
  conversionQueueUrl: 'http://127.0.0.1:9/000000000000/queue',
  buildQueueUrl: 'http://127.0.0.1:9/000000000000/builds',
  buildLogGroup: '/local/algorithm-builds',
  imagesBaseUrl: 'http://127.0.0.1:9',
  currentSigningKeySecretArn: 'arn:aws:secretsmanager:eu-central-1:000000000000:secret:key',
  pageTokenSecretArn: 'arn:aws:secretsmanager:eu-central-1:000000000000:secret:page-token-key',
  sessionSigningKeySecretArn: 'arn:aws:secretsmanager:eu-central-1:000000000000:secret:session-key',
  viewerOrigin: '',
  conversionWorkDir: '/tmp',
});

test('without a viewer, a session cannot start: 503 saying so, before anything is read or claimed', async () => {
  const fn = new LocalFunction({
    handler: operation.handler,
    environment: {
      AWS_REGION: 'eu-central-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...environmentVariables(operation, settings),
    },
    timeoutSeconds: 30,
  });
  try {
    const answer = (await fn.invoke({
      requestContext: { requestId: 'r', authorizer: { claims: { sub: 'someone' } } },
      headers: {},
      pathParameters: null,
      body: JSON.stringify({ images: [randomUUID()] }),
      isBase64Encoded: false,
    })) as { statusCode: number; body: string };
    expect(answer.statusCode).toBe(503);
    expect(JSON.parse(answer.body)).toEqual({
      error: {
        code: 'ServiceUnavailable',
        message: 'no viewer is deployed: set viewer.url in the configuration to start sessions',
      },
    });
  } catch (err) {
    if (err instanceof FunctionError) throw new Error(`the handler failed: ${err.message}`, { cause: err });
    throw err;
  } finally {
    await fn.stop();
  }
});
