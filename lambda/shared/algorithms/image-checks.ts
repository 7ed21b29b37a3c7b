import { badRequest } from '../api/api-error';
import { findContainerEngine, imageConfig } from '../../../containers/job-runner/src/container-engine';

/** What the contract asks of an image before a version of it may become active. */
export interface ImageFacts {
  /** The image's USER. */
  readonly user: string;
  readonly os: string;
  readonly architecture: string;
}

/** Refuses, naming the check that failed, an image the contract does not run. */
export function checkImageFacts(facts: ImageFacts, where: string): void {
  const user = facts.user.split(':')[0].trim();
  if (user === '' || user === 'root' || user === '0') {
    throw badRequest(
      `${where} runs as root (USER is ${facts.user ? `"${facts.user}"` : 'not set'}); algorithms run as a non-root USER`,
    );
  }
  if (facts.os !== 'linux' || facts.architecture !== 'amd64') {
    throw badRequest(
      `${where} is built for ${facts.os}/${facts.architecture}; algorithms run on linux/amd64`,
    );
  }
}

/**
 * Checks an image built on this machine (local mode) through the local container engine: it must
 * exist and pass the contract's checks. Images in ECR are checked when their version is activated.
 */
export async function checkLocalImage(image: string, where: string): Promise<void> {
  if (!image.startsWith('localhost/')) return;
  const engine = findContainerEngine();
  if (!engine) throw badRequest(`${where} is a local image, but no container engine answers on this machine`);
  let facts: ImageFacts;
  try {
    facts = await imageConfig(engine, image);
  } catch {
    throw badRequest(`${where} ${image} does not exist on this machine; build it first`);
  }
  checkImageFacts(facts, where);
}
