import { z } from 'zod';
import { ClientMessage, VIEW_BOUNDS } from './protocol';

const finite = z.number().finite();
const vec3 = z.tuple([finite, finite, finite]);
const point = z.tuple([finite, finite]);
const plane = z.enum(['axial', 'coronal', 'sagittal']);
const id = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/);
/** Canvases larger than this are no screen's: refused before anything is rendered. */
const MAX_VIEWPORT = VIEW_BOUNDS.viewportPixels;

const viewState = z.object({
  plane,
  position: vec3,
  timepoint: z.number().int().min(0),
  window: z.object({ width: finite.positive(), level: finite }),
  zoom: finite.min(VIEW_BOUNDS.zoom.min).max(VIEW_BOUNDS.zoom.max),
  pan: point,
  slab: z
    .object({
      mode: z.enum(['mip', 'minip', 'average']),
      thicknessMm: finite.min(VIEW_BOUNDS.slabThicknessMm.min).max(VIEW_BOUNDS.slabThicknessMm.max),
    })
    .optional(),
  overlayOpacity: finite.min(0).max(1),
  viewport: z.object({
    width: z.number().int().min(1).max(MAX_VIEWPORT),
    height: z.number().int().min(1).max(MAX_VIEWPORT),
  }),
});

const measurement = { requestId: z.number().int().min(0), imageId: id, view: viewState };

const clientMessage = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('view'),
    id: z.number().int().min(0),
    imageId: id,
    canvas: plane,
    view: viewState,
    overlayId: id.optional(),
  }),
  z.object({ type: z.literal('ack'), frameId: z.number().int().min(0) }),
  z.object({ type: z.literal('ping') }),
  z.object({ type: z.literal('probe'), ...measurement, point }),
  z.object({ type: z.literal('length'), ...measurement, from: point, to: point }),
  z.object({
    type: z.literal('region'),
    ...measurement,
    shape: z.object({ kind: z.enum(['ellipse', 'rectangle']), from: point, to: point }),
  }),
]);

/** The message if it is one the protocol allows; throws saying what is wrong otherwise. */
export function parseClientMessage(text: string): ClientMessage {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error('a message is not JSON');
  }
  const parsed = clientMessage.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `a message is not one the viewer takes: ${issue.path.join('.') || 'message'}: ${issue.message}`,
    );
  }
  return parsed.data as ClientMessage;
}
