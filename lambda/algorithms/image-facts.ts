import { badRequest } from '../api/api-error';

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
