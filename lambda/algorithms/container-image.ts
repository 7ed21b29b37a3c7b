import { badRequest } from '../api/api-error';

/**
 * Which registries an algorithm image may come from: the account's ECR in a deployment, and
 * images built on this machine in local mode (LOCAL_IMAGES_ALLOWED=true).
 */
export function checkContainerImage(
  image: string,
  where: string,
  env: NodeJS.ProcessEnv = process.env,
): void {
  if (image.startsWith('localhost/') && env.LOCAL_IMAGES_ALLOWED !== 'true') {
    throw badRequest(`${where} must be an ECR image; localhost images run in local mode only`);
  }
}

/** The `sha256:...` digest that identifies an image's content. */
export function imageDigest(image: string): string {
  return image.slice(image.indexOf('@') + 1);
}
