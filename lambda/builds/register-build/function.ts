import { BackgroundFunction } from '../../contracts/handler-deployment';

/** The shape of `UserParameters` that the pipeline's Register action passes, as JSON. */
export interface RegisterBuildParameters {
  readonly algorithmId: string;
  readonly buildId: string;
  /** The image the build action pushed, by digest (`#{Build.IMAGE}`). */
  readonly image: string;
}

/**
 * The build pipeline's Register action: checks the built image and makes it the algorithm's
 * active version, or refuses it naming the check.
 */
export const backgroundFunction: BackgroundFunction = {
  handler: 'builds/register-build',
  description:
    "Checks a build's image and makes it the algorithm's active version: the build pipeline's last action",
  trigger: { kind: 'buildPipelineAction' },
  // The image's checks read its manifest, configuration and scan from ECR.
  sizing: { timeoutSeconds: 300 },
  permissions: {
    // The build, moved to Checking then ended (its slot given back); the algorithm re-read on a
    // conflict; the version written, checked for its digest first.
    tables: {
      builds: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      usage: ['dynamodb:UpdateItem'],
      algorithms: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      algorithmVersions: ['dynamodb:Query', 'dynamodb:PutItem'],
    },
    activatesVersions: true,
    managesBuildImages: true,
    reportsPipelineJobs: true,
  },
};
