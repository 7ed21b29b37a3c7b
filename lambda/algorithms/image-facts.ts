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

/**
 * grand-challenge's label for how an algorithm is run: `exec` (the default) runs its ENTRYPOINT/CMD
 * once; `invoke` is a server answering /health and /invoke.
 */
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
  // Read as grand-challenge reads it: the key in any case, the value without quotes.
  const label = Object.entries(facts.labels).find(([key]) => key.trim().toLowerCase() === API_METHOD_LABEL);
  const apiMethod = label?.[1].replace(/['"]/g, '').trim().toLowerCase() ?? 'exec';
  // An invoke-mode image waits for requests that jobs here never send: it would run to its time limit.
  if (apiMethod === 'invoke') {
    throw badRequest(
      `${where} is an invoke-mode image (LABEL ${API_METHOD_LABEL}="invoke", a server answering /health and /invoke), which this platform does not run: a job runs the image's ENTRYPOINT/CMD once, reading /input and writing /output. Build it without that label, with an ENTRYPOINT that processes /input and exits`,
    );
  }
  if (apiMethod !== 'exec') {
    throw badRequest(
      `${where} has LABEL ${API_METHOD_LABEL}="${label?.[1]}"; its value must be "exec" (or the label left out)`,
    );
  }
}
