import * as path from 'node:path';
import { converterContainer } from '../../containers/images/converter/container';
import { main as converterEntrypoint } from '../../containers/images/converter/entrypoint';
import { environmentGroups, environmentVariables } from '../../lambda/contracts/handler-environment';
import { logger } from '../../lambda/core/logger';
import { settingsGroup, text, variableName, wholeNumber } from '../../lambda/contracts/settings';
import { API_OPERATIONS, BACKGROUND_FUNCTIONS } from '../../lambda/deployments';
import { defaultPlatformConfig } from '../../lib/config/platform-config';
import { FunctionError, LocalFunction } from '../../local/functions/local-function';
import { localSettings } from '../../local/local-settings';

const settings = localSettings(defaultPlatformConfig, {
  bucketName: 'bucket',
  conversionQueueUrl: 'http://127.0.0.1:9/000000000000/queue',
  buildQueueUrl: 'http://127.0.0.1:9/000000000000/builds',
  buildLogGroup: '/local/algorithm-builds',
  imagesBaseUrl: 'http://127.0.0.1:9',
  currentSigningKeySecretArn: 'arn:aws:secretsmanager:eu-central-1:000000000000:secret:key',
  pageTokenSecretArn: 'arn:aws:secretsmanager:eu-central-1:000000000000:secret:page-token-key',
  sessionSigningKeySecretArn: 'arn:aws:secretsmanager:eu-central-1:000000000000:secret:session-key',
  viewerOrigin: 'http://127.0.0.1:9',
  conversionWorkDir: '/tmp',
});
/** What Lambda's runtime gives every function; nothing here is reached. */
const RUNTIME = {
  AWS_REGION: 'eu-central-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

describe('settings', () => {
  test("a setting's variable is its name in capitals, words joined by underscores", () => {
    expect(variableName('uploadPartBytes')).toBe('UPLOAD_PART_BYTES');
    expect(variableName('algorithmVersionsTable')).toBe('ALGORITHM_VERSIONS_TABLE');
  });

  test('values become variables and are read back as their types', () => {
    const group = settingsGroup('the example', { exampleBytes: wholeNumber, exampleName: text });
    const variables = group.variables({ exampleBytes: 1024, exampleName: 'x' });
    expect(variables).toEqual({ EXAMPLE_BYTES: '1024', EXAMPLE_NAME: 'x' });
    expect(group.parse(variables)).toEqual({ exampleBytes: 1024, exampleName: 'x' });
  });

  test('every missing or malformed variable is named, with what is wrong', () => {
    const group = settingsGroup('the example', { exampleBytes: wholeNumber, exampleName: text });
    expect(() => group.parse({ EXAMPLE_BYTES: '-3' })).toThrow(
      'the example cannot be read: EXAMPLE_BYTES must be a positive whole number (is "-3"); EXAMPLE_NAME is not set',
    );
  });
});

const deployments = [
  ...API_OPERATIONS,
  ...BACKGROUND_FUNCTIONS.filter((d) => d.trigger.kind !== 'customResource'),
];

describe('every handler checks its environment when it starts', () => {
  test.each(deployments.map((d) => [d.handler, d] as const))(
    '%s started without one of its variables fails, naming it',
    async (_, deployment) => {
      const environment = environmentVariables(deployment, settings);
      const names = Object.keys(environment);
      if (names.length === 0) {
        expect(environmentGroups(deployment)).toEqual([]);
        return;
      }
      // The last of its variables: one that the handler's own code reads no earlier than the check.
      const missing = names[names.length - 1];
      delete environment[missing];
      const fn = new LocalFunction({
        handler: deployment.handler,
        environment: {
          ...RUNTIME,
          POWERTOOLS_SERVICE_NAME: path.basename(deployment.handler),
          ...environment,
        },
        timeoutSeconds: 60,
      });
      try {
        const failure = await fn.invoke({}).catch((err: unknown) => err);
        expect(failure).toBeInstanceOf(FunctionError);
        expect((failure as FunctionError).name).toBe('Runtime.InitError');
        expect((failure as FunctionError).message).toContain(
          `the environment of ${deployment.handler} is incomplete: `,
        );
        expect((failure as FunctionError).message).toContain(`${missing} is not set`);
      } finally {
        await fn.stop();
      }
    },
  );

  test('the converter container refuses to start without one of its variables, naming it', async () => {
    const environment = environmentVariables(converterContainer, settings);
    delete environment.IMAGES_TABLE;
    const logged = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    try {
      expect(
        await converterEntrypoint(['00000000-0000-4000-8000-000000000000'], {
          ...environment,
          AWS_BATCH_JOB_ID: 'job',
        }),
      ).toBe(2);
      expect(JSON.stringify(logged.mock.calls)).toContain('IMAGES_TABLE is not set');
    } finally {
      logged.mockRestore();
    }
  });
});
