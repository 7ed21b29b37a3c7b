import { metricData, publishHostMetrics } from '../../containers/viewer/host/host-metrics';

/** The data a viewer host publishes to CloudWatch, as its scaling policies and alarms read them. */

const sample = {
  sessions: 3,
  freeSlots: 1,
  sessionStartFailures: 2,
  frameMilliseconds: [12.4, 11.6, 30, 12.2],
};

test('each metric goes out with the group as dimension and without, for the region', () => {
  const data = metricData(sample, 'fleet-eu');
  const withGroup = data.filter((d) => d.Dimensions);
  const regional = data.filter((d) => !d.Dimensions);
  expect(withGroup.map((d) => d.MetricName)).toEqual([
    'Sessions',
    'FreeSlots',
    'SessionStartFailures',
    'FrameMilliseconds',
  ]);
  expect(regional.map((d) => d.MetricName)).toEqual(withGroup.map((d) => d.MetricName));
  for (const datum of withGroup)
    expect(datum.Dimensions).toEqual([{ Name: 'AutoScalingGroupName', Value: 'fleet-eu' }]);
  expect(withGroup.slice(0, 3).map((d) => d.Value)).toEqual([3, 1, 2]);
});

test('frame times go as values and counts to the millisecond, so that percentiles are kept', () => {
  const frames = metricData(sample, 'fleet-eu').find((d) => d.MetricName === 'FrameMilliseconds')!;
  expect(frames).toMatchObject({ Unit: 'Milliseconds', Values: [12, 30], Counts: [3, 1] });
});

test('more distinct frame times than CloudWatch takes in one datum are split', () => {
  const many = Array.from({ length: 400 }, (_, i) => i);
  const frames = metricData({ ...sample, frameMilliseconds: many }, 'g').filter(
    (d) => d.MetricName === 'FrameMilliseconds' && d.Dimensions,
  );
  expect(frames.map((d) => d.Values!.length)).toEqual([150, 150, 100]);
  expect(frames.flatMap((d) => d.Values)).toEqual(many);
});

test('no frames, no frame datum', () => {
  const data = metricData({ ...sample, frameMilliseconds: [] }, 'g');
  expect(data.some((d) => d.MetricName === 'FrameMilliseconds')).toBe(false);
});

test('a refused publication is told and does not stop the host', async () => {
  const logs: string[] = [];
  const metrics = publishHostMetrics({
    cloudWatch: { putMetricData: () => Promise.reject(new Error('throttled')) },
    namespace: 'p/Viewer',
    groupName: 'g',
    sample: async () => sample,
    log: (message) => logs.push(message),
  });
  await metrics.stop();
  expect(logs).toEqual(['metrics not published: throttled']);
});
