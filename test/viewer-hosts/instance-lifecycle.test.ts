import {
  announceReady,
  lifecycleTarget,
  watchInstanceLifecycle,
} from '../../containers/viewer/host/instance-lifecycle';
import { InstanceMetadata } from '../../containers/viewer/host/instance-metadata';
import { recordedAws, startMetadataStandIn } from './viewer-host-fixture';
import { until } from './session-reader';

/** How a host finds its Auto Scaling group and follows its lifecycle, against a local metadata service. */

test('the group comes from the instance tag in the metadata service', async () => {
  const imds = await startMetadataStandIn('i-0123', 'fleet-eu');
  try {
    const aws = recordedAws();
    expect(await lifecycleTarget(imds.metadata, aws.autoScaling)).toEqual({
      AutoScalingGroupName: 'fleet-eu',
      LifecycleHookName: 'drain-sessions',
      InstanceId: 'i-0123',
    });
  } finally {
    await imds.stop();
  }
});

test('without tags in the metadata service, Auto Scaling is asked for the group', async () => {
  const imds = await startMetadataStandIn('i-0456', undefined);
  try {
    const asked: unknown[] = [];
    const target = await lifecycleTarget(imds.metadata, {
      ...recordedAws().autoScaling,
      describeAutoScalingInstances: async (input) => {
        asked.push(input);
        return { AutoScalingInstances: [{ AutoScalingGroupName: 'fleet-jp' }] };
      },
    });
    expect(asked).toEqual([{ InstanceIds: ['i-0456'] }]);
    expect(target.AutoScalingGroupName).toBe('fleet-jp');
  } finally {
    await imds.stop();
  }
});

test('an instance in no group is said to be so', async () => {
  const imds = await startMetadataStandIn('i-0789', undefined);
  try {
    await expect(lifecycleTarget(imds.metadata, recordedAws().autoScaling)).rejects.toThrow(
      'the instance i-0789 belongs to no Auto Scaling group',
    );
  } finally {
    await imds.stop();
  }
});

test('a host says it is ready at every start; where no launch action waits (its container restarted), it goes on', async () => {
  const imds = await startMetadataStandIn('i-0def', 'fleet-eu', 'Warmed:Stopped');
  try {
    const logs: string[] = [];
    const aws = recordedAws();
    const target = await lifecycleTarget(imds.metadata, aws.autoScaling);
    expect(await announceReady(imds.metadata, aws.autoScaling, target, (m) => logs.push(m))).toEqual({
      warmed: true,
    });
    expect(aws.calls).toEqual([
      {
        name: 'complete',
        input: { ...target, LifecycleHookName: 'host-ready', LifecycleActionResult: 'CONTINUE' },
      },
    ]);
    imds.setLifecycleState('InService');
    const refusing = {
      ...aws.autoScaling,
      completeLifecycleAction: async () => {
        throw new Error('No active Lifecycle Action found with instance ID i-0def');
      },
    };
    expect(await announceReady(imds.metadata, refusing, target, (m) => logs.push(m))).toEqual({
      warmed: false,
    });
    expect(logs).toEqual([
      'ready: host-ready completed on the way to Warmed:Stopped',
      'ready, with no host-ready action to complete: No active Lifecycle Action found with instance ID i-0def',
    ]);
  } finally {
    await imds.stop();
  }
});

test('the host drains only once Auto Scaling terminates it, and completes the hook after draining', async () => {
  const imds = await startMetadataStandIn('i-0abc', 'fleet-us');
  const aws = recordedAws();
  let drainStarted = false;
  let endDrain!: () => void;
  const watch = watchInstanceLifecycle({
    metadata: imds.metadata,
    autoScaling: aws.autoScaling,
    drain: () => {
      drainStarted = true;
      return new Promise((resolve) => (endDrain = resolve));
    },
    pollMs: 20,
    heartbeatMs: 20,
    log: () => undefined,
  });
  try {
    imds.setLifecycleState('Warmed:Running');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(drainStarted).toBe(false);
    imds.setLifecycleState('Terminated');
    await until(() => drainStarted, 2000, 'the drain');
    await until(() => aws.calls.some((c) => c.name === 'heartbeat'), 2000, 'a heartbeat');
    expect(aws.calls.some((c) => c.name === 'complete')).toBe(false);
    endDrain();
    await watch.finished;
    expect(aws.calls.filter((c) => c.name === 'complete')).toEqual([
      {
        name: 'complete',
        input: {
          AutoScalingGroupName: 'fleet-us',
          LifecycleHookName: 'drain-sessions',
          InstanceId: 'i-0abc',
          LifecycleActionResult: 'CONTINUE',
        },
      },
    ]);
    // No heartbeat after the hook is completed.
    const heartbeats = aws.calls.filter((c) => c.name === 'heartbeat').length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(aws.calls.filter((c) => c.name === 'heartbeat').length).toBe(heartbeats);
  } finally {
    watch.stop();
    await imds.stop();
  }
});

test('a metadata service that does not answer is read again, and nothing drains', async () => {
  const logs: string[] = [];
  let drained = false;
  const watch = watchInstanceLifecycle({
    metadata: new InstanceMetadata('http://127.0.0.1:9'),
    autoScaling: recordedAws().autoScaling,
    drain: async () => void (drained = true),
    pollMs: 20,
    log: (message) => logs.push(message),
  });
  await until(() => logs.length >= 2, 5000, 'two failed reads');
  watch.stop();
  expect(drained).toBe(false);
  expect(logs[0]).toMatch(/^lifecycle state unread: /);
});
