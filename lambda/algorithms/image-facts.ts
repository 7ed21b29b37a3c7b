import { badRequest } from '../api/api-error';

/** What the contract asks of an image before a version of it may become active. */
export interface ImageFacts {
  /** The image's USER. */
  readonly user: string;
  readonly os: string;
  readonly architecture: string;
  /** The image's labels. */
  readonly labels: Readonly<Record<string, string>>;
}

/** grand-challenge's label for how an algorithm is run; `invoke` means a server answering /invoke. */
export const API_METHOD_LABEL = 'org.grand-challenge.api-method';

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
  // Such an image waits for requests that jobs here never send, so it would run to its time limit.
  const apiMethod = facts.labels[API_METHOD_LABEL];
  if (apiMethod !== undefined && apiMethod.trim().toLowerCase() === 'invoke') {
    throw badRequest(
      `${where} is an invoke-mode image (LABEL ${API_METHOD_LABEL}="${apiMethod}", a server answering /health and /invoke), which this platform does not run: a job runs the image's ENTRYPOINT/CMD once, reading /input and writing /output. Build it without that label, with an ENTRYPOINT that processes /input and exits`,
    );
  }
}
