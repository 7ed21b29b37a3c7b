import type { PlatformSettings } from '../../lambda/contracts/handler-environment';
import { variableName } from '../../lambda/contracts/settings';

/**
 * Settings whose values local mode gives differently from a deployment: the embedded S3 has no
 * Transfer Acceleration, the converter's scratch is a folder of this machine, images are served
 * by the CloudFront stand-in over plain HTTP, algorithms may name images built locally, and
 * builds keep their images in the local container engine (`localhost/...`), where ECR would hold them;
 * sessions open in the local viewer, on a port of its own.
 */
export const LOCAL_ONLY_SETTINGS = [
  's3Accelerate',
  'conversionWorkDir',
  'imagesBaseUrl',
  'localImagesAllowed',
  'algorithmRepositoryUri',
  'viewerOrigin',
] as const;

/**
 * A function's or container's environment in local mode: the variables of its synthesized
 * definition (whose references the templates' reading already turned into local resources), with
 * local mode's values for `LOCAL_ONLY_SETTINGS`. It adds no variable the definition lacks.
 */
export function localEnvironment(
  deployed: Readonly<Record<string, string>>,
  settings: PlatformSettings,
): Record<string, string> {
  const environment = { ...deployed };
  for (const setting of LOCAL_ONLY_SETTINGS) {
    const name = variableName(setting);
    if (name in environment) environment[name] = String(settings[setting]);
  }
  return environment;
}
