import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
} from '@aws-sdk/client-auto-scaling';
import { mockClient } from 'aws-sdk-client-mock';
import { VIEWER_FLEET_TAG } from '../../lambda/contracts/viewer-host';
import { VIEWER_SESSIONS } from '../../lambda/contracts/viewer-sessions';
import { startingStatus } from '../../lambda/sessions/session-record';
import { wakeViewerFleet } from '../../lambda/sessions/viewer-fleets';

// Auto Scaling has no local server: its API is mocked. Local mode runs one viewer and wakes nothing.
const autoScaling = mockClient(AutoScalingClient);

beforeAll(() => {
  Object.assign(
    process.env,
    VIEWER_SESSIONS.variables({
      viewerOrigin: '',
      viewerRegions: ['eu-central-1', 'ap-northeast-1', 'us-east-2'],
      viewerEndpointParameterName: '/Platform/viewer/endpoint',
      viewerFleetName: 'Platform',
      viewerSessionsPerUser: 3,
      viewerSessionsPerRegion: 10,
      viewerSessionMaxSeconds: 10_000,
    }),
  );
});
afterAll(() => autoScaling.restore());
beforeEach(() => autoScaling.reset());

/** A group with `desired` hosts wanted, of which those in `states` are there (a booting one is Pending). */
const group = (name: string, desired: number, max = 5, states: string[] = []) => ({
  AutoScalingGroupName: name,
  DesiredCapacity: desired,
  MinSize: 0,
  MaxSize: max,
  CreatedTime: new Date(),
  DefaultCooldown: 300,
  HealthCheckType: 'EC2',
  AvailabilityZones: [],
  Instances: states.map((LifecycleState, i) => ({
    InstanceId: `i-${name}-${i}`,
    LifecycleState: LifecycleState as 'InService',
    AvailabilityZone: 'a',
    HealthStatus: 'Healthy',
    ProtectedFromScaleIn: false,
  })),
});

test("an empty fleet, found by its tag in the session's region, gets one host at once", async () => {
  autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [group('hosts-eu', 0)] });
  autoScaling.on(SetDesiredCapacityCommand).resolves({});
  expect(await wakeViewerFleet('eu-central-1')).toBe('starting');
  const [described] = autoScaling.commandCalls(DescribeAutoScalingGroupsCommand);
  expect(described.args[0].input).toEqual({
    Filters: [{ Name: `tag:${VIEWER_FLEET_TAG}`, Values: ['Platform'] }],
  });
  expect(await described.thisValue.config.region()).toBe('eu-central-1');
  expect(autoScaling.commandCalls(SetDesiredCapacityCommand).map((call) => call.args[0].input)).toEqual([
    { AutoScalingGroupName: 'hosts-eu', DesiredCapacity: 1, HonorCooldown: false },
  ]);
});

test('a fleet with hosts is left to its scaling policies, and not asked again for a minute', async () => {
  autoScaling
    .on(DescribeAutoScalingGroupsCommand)
    .resolves({ AutoScalingGroups: [group('hosts-jp', 2, 5, ['InService', 'Pending'])] });
  expect(await wakeViewerFleet('ap-northeast-1')).toBe('running');
  expect(await wakeViewerFleet('ap-northeast-1')).toBe('running');
  expect(autoScaling.commandCalls(DescribeAutoScalingGroupsCommand)).toHaveLength(1);
  expect(autoScaling.commandCalls(SetDesiredCapacityCommand)).toHaveLength(0);
});

test('a fleet is asked every time until a host is in service: a second session while it boots sets no more than one, and waits too', async () => {
  autoScaling
    .on(DescribeAutoScalingGroupsCommand)
    .resolvesOnce({ AutoScalingGroups: [group('hosts-us', 0)] })
    .resolvesOnce({ AutoScalingGroups: [group('hosts-us', 1, 5, ['Pending:Wait'])] })
    .resolves({ AutoScalingGroups: [group('hosts-us', 1, 5, ['InService'])] });
  autoScaling.on(SetDesiredCapacityCommand).resolves({});
  expect(await wakeViewerFleet('us-east-2')).toBe('starting');
  expect(await wakeViewerFleet('us-east-2')).toBe('starting');
  expect(await wakeViewerFleet('us-east-2')).toBe('running');
  expect(autoScaling.commandCalls(DescribeAutoScalingGroupsCommand)).toHaveLength(3);
  expect(autoScaling.commandCalls(SetDesiredCapacityCommand)).toHaveLength(1);
});

test('a fleet whose maximum is 0 (switched off in its region) is not started', async () => {
  autoScaling
    .on(DescribeAutoScalingGroupsCommand)
    .resolves({ AutoScalingGroups: [group('hosts-off', 0, 0)] });
  expect(await wakeViewerFleet('eu-central-1')).toBe('off');
  expect(autoScaling.commandCalls(SetDesiredCapacityCommand)).toHaveLength(0);
});

test('a region with no tagged group says so, and a refused call is thrown to the caller', async () => {
  autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });
  expect(await wakeViewerFleet('eu-west-1')).toBe('absent');
  autoScaling.reset();
  autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [group('hosts-us', 0)] });
  autoScaling
    .on(SetDesiredCapacityCommand)
    .rejects(new Error('not authorized to perform: SetDesiredCapacity'));
  await expect(wakeViewerFleet('sa-east-1')).rejects.toThrow('not authorized');
});

test('a session starts Queued, saying why, only when its fleet had no host and one is on its way', () => {
  expect(startingStatus('starting', 'eu-central-1')).toEqual({
    status: 'Queued',
    statusReason:
      'no viewer host was running in eu-central-1: one is starting, and the viewer opens once it is ready, in about a minute',
  });
  for (const wake of ['running', 'off', 'absent', undefined] as const) {
    expect(startingStatus(wake, 'eu-central-1')).toEqual({ status: 'Started' });
  }
});
