import { badRequest } from '../../lambda/api/api-error';
import { LocalImageCheck, useLocalImageCheck } from '../../lambda/algorithms/image-checks';
import { checkImageFacts, ImageFacts } from '../../lambda/algorithms/image-facts';
import { ImageUserError } from '../../containers/jobs/runner/algorithm-identity';
import { findContainerEngine, imageConfig } from './container-engine';
import { cachedImageUserIds } from './image-user-cache';
import { authorImageOf } from './layered-image';

/**
 * How local mode checks an algorithm image built on its machine, through its container engine:
 * it must exist and pass the contract's checks. The engine is looked up once: that starts a process.
 */
export function localImageCheck(): LocalImageCheck {
  let engine: ReturnType<typeof findContainerEngine> | null = null;
  return async (image, where) => {
    if (engine === null) engine = findContainerEngine();
    if (!engine)
      throw badRequest(`${where} is a local image, but no container engine answers on this machine`);
    let facts: ImageFacts;
    try {
      facts = await imageConfig(engine, image);
    } catch {
      throw badRequest(`${where} ${image} does not exist on this machine; build it first`);
    }
    // A build's image carries the runner layer, which runs as root and records the author's USER
    // by number: the contract's check is on that user, as the ECR check reads it.
    const author = await authorImageOf(engine, image);
    if (author) {
      checkImageFacts({ ...facts, user: author.user.split(':')[0] }, where);
      return;
    }
    checkImageFacts(facts, where);
    // The USER by number, from the image's own files: a name that is uid 0 is root too.
    try {
      await cachedImageUserIds(engine, image);
    } catch (err) {
      if (err instanceof ImageUserError) {
        throw badRequest(`${where} ${err.detail}; algorithms run as a non-root user that the image defines`);
      }
      throw err;
    }
  };
}

/** Run in the sandbox of a function that activates versions, before its handler loads. */
export function setUp(): void {
  useLocalImageCheck(localImageCheck());
}
