import { badRequest, conflict, notFound } from '../api/api-error';
import { ImageRecord } from '../images/image-record';
import { getImage, getVisibleImage } from '../images/image-store';
import { getVisibleJob } from '../jobs/job-store';
import { SessionImageKind, SessionImageRecord, SessionOverlayRecord } from './session-record';

export interface SessionImagesRequest {
  readonly images?: readonly string[];
  readonly overlays?: readonly { readonly image: string; readonly on: string }[];
  readonly job?: string;
}

/** What the viewer does with a converted file, by the extension the converter gives it. */
function kindOf(key: string): SessionImageKind | undefined {
  if (key.endsWith('.mha')) return 'volume';
  if (/\.tiff?$/.test(key)) return 'slide';
  return undefined;
}

/** A converted image the session may show; 409 naming it when it is not converted (yet). */
function viewable(image: ImageRecord): { key: string; kind: SessionImageKind } {
  if (image.status !== 'Succeeded' || !image.outputKey) {
    throw conflict(
      `image ${image.id} is ${image.status}, not converted: only converted images can be viewed (${image.statusDetail})`,
    );
  }
  const kind = kindOf(image.outputKey);
  if (!kind) throw conflict(`image ${image.id} is in a format the viewer does not show`);
  return { key: image.outputKey, kind };
}

function overlayOf(image: ImageRecord): SessionOverlayRecord {
  const { key, kind } = viewable(image);
  if (kind !== 'volume') throw conflict(`image ${image.id} is a slide and cannot be drawn as an overlay`);
  return { id: image.id, name: image.name, key };
}

/**
 * The images a session shows, from the request: images the caller may read (others' are 404, as
 * if absent) with overlays drawn over them, or a job the caller may see with its image inputs and
 * its image outputs drawn over the first input. Every image must be converted.
 */
export async function sessionImages(
  request: SessionImagesRequest,
  userId: string,
): Promise<{ images: SessionImageRecord[]; job?: string }> {
  if ((request.job === undefined) === (request.images === undefined)) {
    throw badRequest('give either images (with optional overlays) or a job, not both and not neither');
  }
  if (request.job !== undefined) {
    if (request.overlays) throw badRequest('overlays go with images: a job brings its outputs as overlays');
    return { images: await jobImages(request.job, userId), job: request.job };
  }
  const ids = request.images!;
  const overlays = request.overlays ?? [];
  for (const { image, on } of overlays) {
    if (!ids.includes(on)) throw badRequest(`overlay ${image} is on ${on}, which is not one of the images`);
  }
  const images: SessionImageRecord[] = [];
  for (const id of ids) {
    const record = await getVisibleImage(id, userId);
    images.push({ id, name: record.name, ...viewable(record), overlays: [] });
  }
  const drawn = new Map<string, SessionOverlayRecord[]>();
  for (const { image, on } of overlays) {
    const overlay = overlayOf(await getVisibleImage(image, userId));
    drawn.set(on, [...(drawn.get(on) ?? []), overlay]);
  }
  for (const image of images) {
    if (image.kind === 'slide' && drawn.has(image.id)) {
      throw badRequest(`image ${image.id} is a slide: overlays are drawn on volumes`);
    }
  }
  return { images: images.map((image) => ({ ...image, overlays: drawn.get(image.id) ?? [] })) };
}

/** A job's image inputs, its image outputs drawn over the first; whoever sees the job sees them. */
async function jobImages(jobId: string, userId: string): Promise<SessionImageRecord[]> {
  const { job } = await getVisibleJob(jobId, userId);
  const inputIds = job.inputs.flatMap((input) => (input.image ? [input.image] : []));
  const outputIds = job.outputs.flatMap((output) => (output.image ? [output.image] : []));
  if (inputIds.length === 0) throw conflict(`job ${jobId} has no image inputs to view`);
  const read = async (id: string) => {
    const image = await getImage(id);
    // Made by the job or named by it: absent only if removed since.
    if (!image) throw notFound(`image ${id} of job ${jobId}`);
    return image;
  };
  const overlays: SessionOverlayRecord[] = [];
  // A slide an algorithm made cannot be drawn over anything: it is shown as an image of its own.
  const slides: SessionImageRecord[] = [];
  for (const id of outputIds) {
    const image = await read(id);
    if (image.status !== 'Succeeded') {
      throw conflict(
        `output image ${id} of job ${jobId} is ${image.status}, not converted: only converted images can be viewed (${image.statusDetail})`,
      );
    }
    const file = viewable(image);
    if (file.kind === 'slide') slides.push({ id, name: image.name, ...file, overlays: [] });
    else overlays.push(overlayOf(image));
  }
  const images: SessionImageRecord[] = [];
  for (const [i, id] of inputIds.entries()) {
    const image = await read(id);
    images.push({ id, name: image.name, ...viewable(image), overlays: i === 0 ? overlays : [] });
  }
  return [...images, ...slides];
}
