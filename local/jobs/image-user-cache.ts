import { imageUserIds } from '../../containers/jobs/runner/image-user';
import type { ContainerEngine } from './container-engine';

type UserIds = Awaited<ReturnType<typeof imageUserIds>>;

/** Resolutions under way or done, by image digest. */
const byDigest = new Map<string, Promise<UserIds>>();

/**
 * `imageUserIds`, resolved once per image named by digest: such an image has the same files each
 * time, so its USER resolves the same way at each registration and each job, where resolving it
 * takes a container made and removed and two copies out of it (about a second of the engine's
 * time). An image named by tag is resolved each time, as a tag may move to another image; a
 * refusal or a failure is not kept, so the next time resolves it again.
 */
export function cachedImageUserIds(engine: ContainerEngine, image: string): Promise<UserIds> {
  if (!image.includes('@sha256:')) return imageUserIds(engine, image);
  let resolving = byDigest.get(image);
  if (!resolving) {
    resolving = imageUserIds(engine, image);
    byDigest.set(image, resolving);
    resolving.catch(() => byDigest.delete(image));
  }
  return resolving;
}
