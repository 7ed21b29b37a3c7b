import { badRequest } from '../api/api-error';
import { checkEcrImage } from './ecr-image';
import { checkImageFacts, ImageFacts } from './image-facts';
import { findContainerEngine, imageConfig } from '../../containers/jobs/runner/container-engine';

/**
 * Checks the image of a version about to become active: in ECR (its manifest, configuration and
 * scan), or, in local mode, built on this machine (through the container engine). Local mode has
 * no ECR: ECR images are taken there as named, and cannot run.
 */
export async function checkVersionImage(image: string, where: string, env = process.env): Promise<void> {
  if (image.startsWith('localhost/')) return checkLocalImage(image, where);
  if (env.LOCAL_IMAGES_ALLOWED === 'true') return;
  await checkEcrImage(image, where, { allowCritical: env.IMAGE_CRITICAL_FINDINGS === 'allow' });
}

/** The local container engine, looked up once per process: the lookup starts a process. */
let localEngine: ReturnType<typeof findContainerEngine> | null = null;

/** An image built on this machine must exist and pass the contract's checks. */
async function checkLocalImage(image: string, where: string): Promise<void> {
  if (localEngine === null) localEngine = findContainerEngine();
  const engine = localEngine;
  if (!engine) throw badRequest(`${where} is a local image, but no container engine answers on this machine`);
  let facts: ImageFacts;
  try {
    facts = await imageConfig(engine, image);
  } catch {
    throw badRequest(`${where} ${image} does not exist on this machine; build it first`);
  }
  checkImageFacts(facts, where);
}
