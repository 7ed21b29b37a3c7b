import { BUILD_LIMITS } from '../../contracts/builds';
import { BackgroundFunction } from '../../contracts/handler-deployment';

/** Follows the builds in CodeBuild, from its state change events. */
export const backgroundFunction: BackgroundFunction = {
  handler: 'builds/track-build',
  description: "Moves builds forward on CodeBuild's Build State Change events of the build project",
  trigger: { kind: 'buildStateChange' },
  permissions: {
    // A build's end gives its creator's slot back, and removes the candidate image of a build
    // that failed; its log is read for the builder's result or reason.
    tables: { builds: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], usage: ['dynamodb:UpdateItem'] },
    readsBuildLogs: true,
    managesBuildImages: true,
  },
  settings: [BUILD_LIMITS],
};
