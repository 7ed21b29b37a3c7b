import { badRequest } from '../api/api-error';
import { IMAGE_CHECKS } from '../contracts/job-definitions';

/**
 * Which registries an algorithm image may come from: the account's ECR in a deployment, and
 * images built on this machine in local mode (`localImagesAllowed`).
 */
export function checkContainerImage(image: string, where: string): void {
  if (image.startsWith('localhost/') && !IMAGE_CHECKS.read().localImagesAllowed) {
    throw badRequest(`${where} must be an ECR image; localhost images run in local mode only`);
  }
}

/** The `sha256:...` digest that identifies an image's content. */
export function imageDigest(image: string): string {
  return image.slice(image.indexOf('@') + 1);
}
