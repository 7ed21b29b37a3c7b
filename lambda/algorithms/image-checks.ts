import { badRequest } from '../api/api-error';
import { IMAGE_CHECKS } from '../contracts/job-definitions';
import { checkEcrImage } from './ecr-image';

/** How an image built on this machine is checked; only local mode, which has no ECR, has one. */
export type LocalImageCheck = (image: string, where: string) => Promise<void>;

let localImageCheck: LocalImageCheck | undefined;

/**
 * Local mode's way to check the images built on its machine, set where it starts the function.
 * A deployed function never has one: its bundle carries no container engine code.
 */
export function useLocalImageCheck(check: LocalImageCheck): void {
  localImageCheck = check;
}

/**
 * Checks the image of a version about to become active: in ECR (its manifest, configuration and
 * scan), or, in local mode, built on this machine. Local mode has no ECR: ECR images are taken
 * there as named, and cannot run.
 */
export async function checkVersionImage(image: string, where: string): Promise<void> {
  const { localImagesAllowed, imageCriticalFindings } = IMAGE_CHECKS.read();
  if (image.startsWith('localhost/')) {
    if (!localImageCheck) throw badRequest(`${where} is a local image, but no container engine answers here`);
    return localImageCheck(image, where);
  }
  if (localImagesAllowed) return;
  await checkEcrImage(image, where, { allowCritical: imageCriticalFindings === 'allow' });
}
