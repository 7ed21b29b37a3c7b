import { loadPlatformConfig, PlatformConfigError } from '../../lib/config/load-platform-config';
import { defaultPlatformConfig, viewerHostSize, viewerTimeZone } from '../../lib/config/platform-config';

function problemsOf(context: Record<string, unknown>): string[] {
  try {
    loadPlatformConfig(context);
  } catch (err) {
    if (err instanceof PlatformConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected the configuration to be refused');
}

const TOKYO_CERTIFICATE =
  'arn:aws:acm:ap-northeast-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';

describe('viewer fleet configuration', () => {
  test('the default fleet fits its instance type and keeps two slots warm by day, none at night', () => {
    const { viewerFleet } = defaultPlatformConfig;
    const host = viewerHostSize(viewerFleet.instanceType);
    expect(host).toEqual({ vcpus: 8, memoryMiB: 32 * 1024 });
    expect(viewerFleet.sessionsPerHost * viewerFleet.sessionMemoryMiB).toBeLessThan(host.memoryMiB);
    expect(viewerFleet).toMatchObject({ natGateways: 0, warmSlots: 2, minHosts: 1 });
    expect(viewerFleet.schedule).toEqual({ nightStarts: '0 20 * * *', dayStarts: '0 7 * * 1-5' });
  });

  test("instance sizes follow EC2's: vCPUs by size, memory per vCPU by series", () => {
    expect(viewerHostSize('c7i.large')).toEqual({ vcpus: 2, memoryMiB: 4096 });
    expect(viewerHostSize('r6i.xlarge')).toEqual({ vcpus: 4, memoryMiB: 32 * 1024 });
    expect(viewerHostSize('m7a.12xlarge')).toEqual({ vcpus: 48, memoryMiB: 192 * 1024 });
  });

  test('sessions that do not fit a host are refused, naming the field', () => {
    expect(problemsOf({ 'platform.viewerFleet.sessionsPerHost': 8 })).toEqual([
      'platform.viewerFleet.sessionsPerHost: 8 sessions of 6144 MiB need more than the 30720 MiB that a m7i.2xlarge leaves them (2048 MiB stay with the host)',
      'platform.viewerFleet.sessionMilliCpus: 8 sessions of 1500 milli-vCPUs need more than the 7500 that a m7i.2xlarge leaves them',
    ]);
    expect(problemsOf({ 'platform.viewerFleet.instanceType': 'g5.xlarge' })).toEqual([
      'platform.viewerFleet.instanceType: expected an x86-64 instance type of the c, m or r series, generation 6 or 7, such as "m7i.2xlarge"',
    ]);
  });

  test('the fleet must hold the sessions a region allows, and keep warm no more than it holds', () => {
    expect(problemsOf({ 'platform.viewerFleet.maxHosts': 2 })).toEqual([
      'platform.viewerFleet.maxHosts: 2 hosts of 4 sessions cannot hold the 10 sessions that limits.viewerSessionsPerRegion allows',
    ]);
    expect(problemsOf({ 'platform.viewerFleet.warmSlots': 21 })).toEqual([
      'platform.viewerFleet.warmSlots: must not exceed the slots of viewerFleet.maxHosts hosts (maxHosts x sessionsPerHost)',
    ]);
    expect(problemsOf({ 'platform.viewerFleet.minHosts': 6 })).toEqual([
      'platform.viewerFleet.minHosts: must not exceed viewerFleet.maxHosts',
    ]);
  });

  test('warm slots need a host by day to publish them', () => {
    expect(problemsOf({ 'platform.viewerFleet.minHosts': 0 })).toEqual([
      expect.stringMatching(
        /^platform\.viewerFleet\.minHosts: must be at least 1 when viewerFleet\.warmSlots is above 0/,
      ),
    ]);
    expect(
      loadPlatformConfig({ 'platform.viewerFleet.minHosts': 0, 'platform.viewerFleet.warmSlots': 0 })
        .viewerFleet,
    ).toMatchObject({ minHosts: 0, warmSlots: 0 });
  });

  test('a draining host must be held as long as a session may last', () => {
    // 100 heartbeats of 60 s hold a host 6,000 s: a 10,000 s session would be cut.
    expect(problemsOf({ 'platform.viewerFleet.drainHeartbeatSeconds': 60 })).toEqual([
      'platform.limits.viewerSessionMaxSeconds: a host being scaled in is held at most 6000 s (48 hours, or 100 x viewerFleet.drainHeartbeatSeconds), so a session may not last longer',
    ]);
    expect(problemsOf({ 'platform.limits.viewerSessionMaxSeconds': 3 * 24 * 3600 })).toEqual([
      'platform.limits.viewerSessionMaxSeconds: a host being scaled in is held at most 60000 s (48 hours, or 100 x viewerFleet.drainHeartbeatSeconds), so a session may not last longer',
    ]);
  });

  test("the schedule runs in each region's time zone: its city's, or the one configured; null removes it", () => {
    const config = loadPlatformConfig({
      'platform.viewerFleet.schedule.timeZones': { 'us-east-2': 'America/Chicago' },
    });
    expect(viewerTimeZone(config, 'eu-central-1')).toBe('Europe/Berlin');
    expect(viewerTimeZone(config, 'ap-northeast-1')).toBe('Asia/Tokyo');
    expect(viewerTimeZone(config, 'us-east-2')).toBe('America/Chicago');
    expect(loadPlatformConfig({ 'platform.viewerFleet.schedule': 'null' }).viewerFleet.schedule).toBeNull();
    expect(problemsOf({ 'platform.viewerFleet.schedule.dayStarts': 'at seven' })).toEqual([
      'platform.viewerFleet.schedule.dayStarts: expected a cron expression such as "0 7 * * 1-5"',
    ]);
  });

  test("a region's own domain needs a certificate from that region, and must be a viewer region", () => {
    const domain = (regions: Record<string, unknown>) => ({
      'platform.domains.viewer': { domainName: 'viewer.example.org', regions },
    });
    expect(
      loadPlatformConfig(
        domain({
          'ap-northeast-1': { domainName: 'tokyo.viewer.example.org', certificateArn: TOKYO_CERTIFICATE },
        }),
      ).domains.viewer?.regions,
    ).toEqual({
      'ap-northeast-1': { domainName: 'tokyo.viewer.example.org', certificateArn: TOKYO_CERTIFICATE },
    });
    expect(
      problemsOf(
        domain({ 'us-east-2': { domainName: 'ohio.viewer.example.org', certificateArn: TOKYO_CERTIFICATE } }),
      ),
    ).toEqual([
      'platform.domains.viewer.regions.us-east-2.certificateArn: the load balancer in us-east-2 needs a certificate from us-east-2, not ap-northeast-1',
    ]);
    expect(
      problemsOf(
        domain({
          'eu-west-1': { domainName: 'dublin.viewer.example.org', certificateArn: TOKYO_CERTIFICATE },
        }),
      ),
    ).toEqual(['platform.domains.viewer.regions.eu-west-1: eu-west-1 is not one of viewerRegions']);
  });
});
