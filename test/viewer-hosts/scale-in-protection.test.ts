import { protectWhileBusy } from '../../containers/viewer/host/scale-in-protection';

// Auto Scaling has no local server: the call is recorded, and made to fail when a test says so.
const until = async (condition: () => boolean, what: string) => {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!condition()) throw new Error(`no ${what}`);
};

test('protected while busy, unprotected while empty, each change asked once, a failed call asked again', async () => {
  const asked: boolean[] = [];
  let failNext = false;
  let busy = false;
  const protection = protectWhileBusy({
    autoScaling: {
      setInstanceProtection: async (input) => {
        expect(input).toMatchObject({ AutoScalingGroupName: 'viewers', InstanceIds: ['i-1'] });
        if (failNext) {
          failNext = false;
          throw new Error('Rate exceeded');
        }
        asked.push(input.ProtectedFromScaleIn);
      },
    },
    groupName: 'viewers',
    instanceId: 'i-1',
    busy: () => busy,
    intervalMs: 20,
    log: () => undefined,
  });
  try {
    await until(() => asked.length === 1, 'first call');
    busy = true;
    failNext = true;
    await until(() => asked.length === 2, 'protection after a failed call');
    await new Promise((resolve) => setTimeout(resolve, 100));
    busy = false;
    await until(() => asked.length === 3, 'protection lifted');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(asked).toEqual([false, true, false]);
  } finally {
    protection.stop();
  }
});
