import { WebSocket } from 'ws';
import {
  FrameHeader,
  ServerMessage,
  unpackFrame,
  ViewRequest,
} from '../../containers/viewer/server/protocol';
import type { Vec3, ViewState } from '../../containers/viewer/server/volume/view-state';

/** A small CT: `SIZE` voxels of one value, so that a frame tells which image it shows. */
export const SIZE: Vec3 = [64, 48, 20];

export function uniformCt(value: number): Buffer {
  const voxels = new Int16Array(SIZE[0] * SIZE[1] * SIZE[2]).fill(value);
  return Buffer.concat([
    Buffer.from(
      `ObjectType = Image\nNDims = 3\nDimSize = ${SIZE.join(' ')}\nElementSpacing = 1 1 1\n` +
        'ElementType = MET_SHORT\nElementDataFile = LOCAL\n',
    ),
    Buffer.from(voxels.buffer),
  ]);
}

export function axialView(z: number): ViewState {
  return {
    plane: 'axial',
    position: [32, 24, z],
    timepoint: 0,
    window: { width: 400, level: 40 },
    zoom: 1,
    pan: [0, 0],
    overlayOpacity: 0,
    viewport: { width: 64, height: 48 },
  };
}

/** The credential exchanged at `origin`; the ticket cookie and the exchange's answer. */
export async function exchange(origin: string, sessionId: string, credential: string) {
  const response = await fetch(`${origin}/sessions/${sessionId}/credential`, {
    method: 'POST',
    headers: { authorization: `Bearer ${credential}` },
  });
  const body = (await response.json()) as { error?: string; images?: { id: string }[] };
  const cookie = response.headers.get('set-cookie')?.split(';')[0];
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body, cookie };
}

/** A reader's socket: frames acknowledged as they come, messages kept. */
export async function openReader(origin: string, sessionId: string, cookie: string) {
  const ws = new WebSocket(`${origin.replace('http', 'ws')}/sessions/${sessionId}/socket`, {
    headers: { cookie },
  });
  const messages: ServerMessage[] = [];
  const frames: FrameHeader[] = [];
  ws.on('message', (data: Buffer, binary) => {
    if (!binary) return void messages.push(JSON.parse(data.toString()) as ServerMessage);
    const { header } = unpackFrame(new Uint8Array(data));
    frames.push(header);
    ws.send(JSON.stringify({ type: 'ack', frameId: header.frameId }));
  });
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let id = 0;
  return {
    ws,
    messages,
    frames,
    closed,
    view: (imageId: string, z: number) => {
      const request: ViewRequest = { type: 'view', id: ++id, imageId, canvas: 'axial', view: axialView(z) };
      ws.send(JSON.stringify(request));
      return request.id;
    },
    /** Waits until a frame answers request `id`. */
    frame: (id: number, timeoutMs = 20_000) => until(() => frames.find((f) => f.requestId === id), timeoutMs),
    close: () => ws.close(),
  };
}

export async function until<T>(
  check: () => T | undefined | false,
  timeoutMs = 20_000,
  what = 'a condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A small CT whose value tells the slice: 40 + 10 z. */
export function slicedCt(): Buffer {
  const [sx, sy, sz] = SIZE;
  const voxels = new Int16Array(sx * sy * sz);
  for (let z = 0; z < sz; z++) voxels.fill(40 + 10 * z, z * sx * sy, (z + 1) * sx * sy);
  return Buffer.concat([
    Buffer.from(
      `ObjectType = Image\nNDims = 3\nDimSize = ${SIZE.join(' ')}\nElementSpacing = 1 1 1\n` +
        'ElementType = MET_SHORT\nElementDataFile = LOCAL\n',
    ),
    Buffer.from(voxels.buffer),
  ]);
}
