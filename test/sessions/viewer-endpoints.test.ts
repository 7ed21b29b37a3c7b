import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { VIEWER_SESSIONS } from '../../lambda/contracts/viewer-sessions';
import { viewerOriginIn } from '../../lambda/sessions/viewer-endpoints';

// SSM has no local server: its API is mocked. Local mode names its one viewer in `viewerOrigin`
// and never asks; a deployed API asks each viewer region for the origin its fleet publishes.
const ssm = mockClient(SSMClient);
const PARAMETER = '/Platform/viewer/endpoint';

beforeAll(() => {
  Object.assign(
    process.env,
    VIEWER_SESSIONS.variables({
      viewerOrigin: '',
      viewerRegions: ['eu-central-1', 'ap-northeast-1', 'us-east-2'],
      viewerEndpointParameterName: PARAMETER,
      viewerFleetName: 'Platform',
      viewerSessionsPerUser: 3,
      viewerSessionsPerRegion: 10,
      viewerSessionMaxSeconds: 10_000,
    }),
  );
});
afterAll(() => ssm.restore());

test("a region's origin is read from its own region's parameter, once for some minutes", async () => {
  ssm.reset();
  ssm
    .on(GetParameterCommand, { Name: PARAMETER })
    .resolves({ Parameter: { Value: 'https://d111.cloudfront.net' } });
  expect(await viewerOriginIn('ap-northeast-1')).toBe('https://d111.cloudfront.net');
  expect(await viewerOriginIn('ap-northeast-1')).toBe('https://d111.cloudfront.net');
  const calls = ssm.commandCalls(GetParameterCommand);
  expect(calls).toHaveLength(1);
  expect(await calls[0].thisValue.config.region()).toBe('ap-northeast-1');
});

test('a region whose fleet is not deployed answers 503 naming it', async () => {
  ssm.reset();
  ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'not found', $metadata: {} }));
  await expect(viewerOriginIn('us-east-2')).rejects.toMatchObject({
    status: 503,
    message: 'no viewer is deployed in us-east-2 yet: deploy its viewer stack to start sessions there',
  });
});

test('a region that runs no viewer is a bad request listing those that do, and nothing is asked', async () => {
  ssm.reset();
  await expect(viewerOriginIn('sa-east-1')).rejects.toMatchObject({
    status: 400,
    message: 'region sa-east-1 runs no viewer: choose one of eu-central-1, ap-northeast-1, us-east-2',
  });
  expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(0);
});

test('a parameter that holds no https origin is an error, not a session sent there', async () => {
  ssm.reset();
  ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 'http://internal-alb:8080' } });
  await expect(viewerOriginIn('eu-central-1')).rejects.toThrow(
    `${PARAMETER} in eu-central-1 holds no https origin: http://internal-alb:8080`,
  );
});
