import { VIEWER_SESSIONS } from '../../lambda/contracts/viewer-sessions';
import { configSettings } from '../../lib/config/config-settings';
import { loadPlatformConfig, PlatformConfigError } from '../../lib/config/load-platform-config';

const settingsOf = (context: Record<string, unknown>) => configSettings(loadPlatformConfig(context));

describe('where sessions open, from the configuration', () => {
  test("by default each region's fleet is asked for its origin: the configured origin is empty", () => {
    const settings = settingsOf({});
    expect(settings).toMatchObject({
      viewerOrigin: '',
      viewerRegions: ['eu-central-1', 'ap-northeast-1', 'us-east-2'],
      viewerEndpointParameterName: '/ImagingPlatform/viewer/endpoint',
      viewerFleetName: 'ImagingPlatform',
      viewerSessionsPerUser: 3,
      viewerSessionsPerRegion: 10,
      viewerSessionMaxSeconds: 10_000,
    });
    expect(VIEWER_SESSIONS.parse(VIEWER_SESSIONS.variables(settings)).viewerOrigin).toBe('');
  });

  test('viewer.url is the origin of every region', () => {
    expect(settingsOf({ 'platform.viewer.url': 'https://viewer.example.org' }).viewerOrigin).toBe(
      'https://viewer.example.org',
    );
  });

  test('a viewer URL that is not an https origin is refused naming the key', () => {
    for (const url of ['http://viewer.example.org', 'https://viewer.example.org/sessions']) {
      expect(() => loadPlatformConfig({ 'platform.viewer.url': url })).toThrow(PlatformConfigError);
      try {
        loadPlatformConfig({ 'platform.viewer.url': url });
      } catch (err) {
        expect((err as PlatformConfigError).problems[0]).toMatch(
          /^platform\.viewer\.url: expected an https origin/,
        );
      }
    }
  });

  test('a handler refuses an origin that is not one', () => {
    expect(() =>
      VIEWER_SESSIONS.parse({
        VIEWER_ORIGIN: 'viewer.example.org',
        VIEWER_REGIONS: 'eu-central-1',
        VIEWER_ENDPOINT_PARAMETER_NAME: '/P/viewer/endpoint',
        VIEWER_FLEET_NAME: 'P',
        VIEWER_SESSIONS_PER_USER: '3',
        VIEWER_SESSIONS_PER_REGION: '10',
        VIEWER_SESSION_MAX_SECONDS: '10000',
      }),
    ).toThrow('VIEWER_ORIGIN must be an origin');
  });
});
