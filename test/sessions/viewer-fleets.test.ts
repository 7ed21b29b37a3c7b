import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
} from '@aws-sdk/client-auto-scaling';
import { mockClient } from 'aws-sdk-client-mock';
import { VIEWER_FLEET_TAG } from '../../lambda/contracts/viewer-host';
import { VIEWER_SESSIONS } from '../../lambda/contracts/viewer-sessions';
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

const group = (name: string, desired: number, max = 5) => ({
  AutoScalingGroupName: name,
  DesiredCapacity: desired,
  MinSize: 0,
  MaxSize: max,
  CreatedTime: new Date(),
  DefaultCooldown: 300,
  HealthCheckType: 'EC2',
  AvailabilityZones: [],
});

test("an empty fleet, found by its tag in the session's region, gets one host at once", async () => {
  autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [group('hosts-eu', 0)] });
  autoScaling.on(SetDesiredCapacityCommand).resolves({});
  expect(await wakeViewerFleet('eu-central-1')).toBe('started');
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
  autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [group('hosts-jp', 2)] });
  expect(await wakeViewerFleet('ap-northeast-1')).toBe('running');
  expect(await wakeViewerFleet('ap-northeast-1')).toBe('running');
  expect(autoScaling.commandCalls(DescribeAutoScalingGroupsCommand)).toHaveLength(1);
  expect(autoScaling.commandCalls(SetDesiredCapacityCommand)).toHaveLength(0);
});

test('an empty fleet is asked every time, so a second session while its host starts sets no more than one', async () => {
  autoScaling
    .on(DescribeAutoScalingGroupsCommand)
    .resolvesOnce({ AutoScalingGroups: [group('hosts-us', 0)] })
    .resolves({ AutoScalingGroups: [group('hosts-us', 1)] });
  autoScaling.on(SetDesiredCapacityCommand).resolves({});
  expect(await wakeViewerFleet('us-east-2')).toBe('started');
  expect(await wakeViewerFleet('us-east-2')).toBe('running');
  expect(autoScaling.commandCalls(SetDesiredCapacityCommand)).toHaveLength(1);
});

test('a fleet whose maximum is 0 (switched off in its region) is not started', async () => {
  autoScaling
    .on(DescribeAutoScalingGroupsCommand)
    .resolves({ AutoScalingGroups: [group('hosts-off', 0, 0)] });
  expect(await wakeViewerFleet('eu-central-1')).toBe('running');
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
