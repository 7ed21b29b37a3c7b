import { FrameEncoding, MAX_FRAMES_IN_FLIGHT, ViewRequest } from '../../containers/viewer/server/protocol';
import { FramePacer } from '../../containers/viewer/server/frame-pacer';
import { ViewState } from '../../containers/viewer/server/volume/view-state';

const VIEW: ViewState = {
  plane: 'axial',
  position: [1, 1, 1],
  timepoint: 0,
  window: { width: 400, level: 40 },
  zoom: 1,
  pan: [0, 0],
  overlayOpacity: 0,
  viewport: { width: 8, height: 8 },
};

function request(id: number, canvas: ViewRequest['canvas'] = 'axial'): ViewRequest {
  return { type: 'view', id, imageId: 'ct', canvas, view: VIEW };
}

/** A pacer whose deliveries are recorded and finish when the test says. */
function recordingPacer(stillAfterMs = 40) {
  const delivered: { requestId: number; canvas: string; encoding: FrameEncoding; frameId: number }[] = [];
  const finish: (() => void)[] = [];
  const pacer = new FramePacer({
    deliver: (r, encoding, frameId) => {
      delivered.push({ requestId: r.id, canvas: r.canvas, encoding, frameId });
      return new Promise<void>((resolve) => finish.push(resolve));
    },
    onError: () => undefined,
    stillAfterMs,
  });
  const settle = async () => {
    while (finish.length) {
      finish.shift()!();
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { pacer, delivered, settle };
}

afterEach(() => jest.useRealTimers());

test('renders one frame at a time and keeps only the newest waiting request of a canvas', async () => {
  const { pacer, delivered, settle } = recordingPacer();
  pacer.request(request(1));
  pacer.request(request(2));
  pacer.request(request(3));
  expect(delivered.map((d) => d.requestId)).toEqual([1]);
  await settle();
  // 2 was replaced by 3 before it could be rendered.
  expect(delivered.map((d) => d.requestId)).toEqual([1, 3]);
  pacer.close();
});

test('ignores a request older than one already taken for its canvas', () => {
  const { pacer } = recordingPacer();
  expect(pacer.request(request(5))).toBe(true);
  expect(pacer.request(request(4))).toBe(false);
  expect(pacer.request(request(4, 'coronal'))).toBe(true);
  pacer.close();
});

test(`sends no more than ${MAX_FRAMES_IN_FLIGHT} frames before the client acknowledges one`, async () => {
  const { pacer, delivered, settle } = recordingPacer();
  const canvases = ['axial', 'coronal', 'sagittal'] as const;
  // One request more than may be in flight, each for a canvas: none replaces another.
  for (let id = 1; id <= MAX_FRAMES_IN_FLIGHT + 1; id++) {
    pacer.request(request(id, canvases[(id - 1) % 3]));
    await settle();
  }
  const sent = Array.from({ length: MAX_FRAMES_IN_FLIGHT }, (_, i) => i + 1);
  expect(delivered.map((d) => d.requestId)).toEqual(sent);
  expect(pacer.framesInFlight).toBe(MAX_FRAMES_IN_FLIGHT);
  pacer.ack(delivered[0].frameId);
  await settle();
  expect(delivered.map((d) => d.requestId)).toEqual([...sent, MAX_FRAMES_IN_FLIGHT + 1]);
  pacer.close();
});

test('sends a view as JPEG, then losslessly once it has been still', async () => {
  const { pacer, delivered, settle } = recordingPacer(40);
  pacer.request(request(1));
  await settle();
  pacer.ack(delivered[0].frameId);
  expect(delivered.map((d) => d.encoding)).toEqual(['jpeg']);
  await new Promise((resolve) => setTimeout(resolve, 80));
  await settle();
  expect(delivered.map((d) => [d.requestId, d.encoding])).toEqual([
    [1, 'jpeg'],
    [1, 'png'],
  ]);
  pacer.close();
});

test('a view that keeps changing is never sent losslessly in between', async () => {
  const { pacer, delivered, settle } = recordingPacer(40);
  for (let id = 1; id <= 5; id++) {
    pacer.request(request(id));
    await settle();
    pacer.ack(delivered[delivered.length - 1].frameId);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(delivered.every((d) => d.encoding === 'jpeg')).toBe(true);
  await new Promise((resolve) => setTimeout(resolve, 80));
  await settle();
  expect(delivered[delivered.length - 1]).toMatchObject({ requestId: 5, encoding: 'png' });
  expect(delivered.filter((d) => d.encoding === 'png')).toHaveLength(1);
  pacer.close();
});

test('a failed render is reported and frees its place', async () => {
  const errors: string[] = [];
  let fail = true;
  const delivered: number[] = [];
  const pacer = new FramePacer({
    deliver: async (r) => {
      if (fail) {
        fail = false;
        throw new Error('no voxels yet');
      }
      delivered.push(r.id);
    },
    onError: (r, err) => errors.push(`${r.id}: ${err.message}`),
  });
  pacer.request(request(1));
  await new Promise((resolve) => setImmediate(resolve));
  pacer.request(request(2));
  await new Promise((resolve) => setImmediate(resolve));
  expect(errors).toEqual(['1: no voxels yet']);
  expect(delivered).toEqual([2]);
  expect(pacer.framesInFlight).toBe(1);
  pacer.close();
});
