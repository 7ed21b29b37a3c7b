import { PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { ApiError, badRequest } from '../../api/api-error';
import { getAlgorithm } from '../../algorithms/algorithm-store';
import { checkContainerImage } from '../../algorithms/container-image';
import { checkVersionImage } from '../../algorithms/image-checks';
import { activateVersion } from '../../algorithms/version-activation';
import { parseEnvironment } from '../../contracts/handler-environment';
import { backgroundHandler } from '../../core/background-handler';
import { logger } from '../../core/logger';
import { nameBasedUuid } from '../../core/name-based-uuid';
import { endBuild } from '../build-ending';
import {
  algorithmRepository,
  removeCandidateTag,
  removeVersionTag,
  retireVersionImage,
  tagVersionImage,
} from '../build-images';
import { pipelineClient } from '../build-pipeline';
import { BuildRecord } from '../build-record';
import { findBuild, moveBuild } from '../build-store';
import { backgroundFunction, RegisterBuildParameters } from './function';

parseEnvironment(backgroundFunction);

/** The algorithm may change while a build registers; its version is written against a fresh read this often. */
const ACTIVATION_ATTEMPTS = 3;

/** What the pipeline's Lambda invoke action sends. */
export interface PipelineJobEvent {
  readonly 'CodePipeline.job': {
    readonly id: string;
    readonly data: {
      readonly actionConfiguration: { readonly configuration: { readonly UserParameters?: string } };
    };
  };
}

/**
 * The pipeline's Register action: the build moves to Checking, its image is checked as every
 * version's image is, and becomes the algorithm's active version (tagged `version-<id>`, its
 * candidate tag removed); the build ends Succeeded with the version. A refused image ends the
 * build Failed, naming the check, with its image removed and no version; either way the pipeline
 * hears of it. Run again for the same build, it reports what the build ended with.
 */
async function registerBuild(event: PipelineJobEvent): Promise<void> {
  const job = event['CodePipeline.job'];
  logger.appendKeys({ pipelineJobId: job.id });
  const outcome = await register(job.data.actionConfiguration.configuration.UserParameters);
  if (outcome.succeeded) {
    await pipelineClient().send(new PutJobSuccessResultCommand({ jobId: job.id }));
  } else {
    await pipelineClient().send(
      new PutJobFailureResultCommand({
        jobId: job.id,
        failureDetails: { type: 'JobFailed', message: outcome.message.slice(0, 5000) },
      }),
    );
  }
}

type Outcome = { succeeded: true } | { succeeded: false; message: string };

async function register(userParameters: string | undefined): Promise<Outcome> {
  let parameters: RegisterBuildParameters;
  try {
    parameters = JSON.parse(userParameters ?? '') as RegisterBuildParameters;
  } catch {
    return { succeeded: false, message: 'UserParameters is not JSON of { algorithmId, buildId, image }' };
  }
  const { algorithmId, buildId, image } = parameters;
  if (typeof algorithmId !== 'string' || typeof buildId !== 'string' || typeof image !== 'string') {
    return { succeeded: false, message: 'UserParameters must name algorithmId, buildId and image' };
  }
  logger.appendKeys({ algorithmId, buildId, image });
  const found = await findBuild(algorithmId, buildId);
  if (!found)
    return { succeeded: false, message: `build ${buildId} of algorithm ${algorithmId} does not exist` };
  if (found.state === 'Succeeded') return { succeeded: true };
  const checking = await moveBuild(found, {
    from: ['Queued', 'Building', 'Checking'],
    to: 'Checking',
    statusDetail: 'its image is checked, then registered as a version',
    fields: { image },
  });
  if (!checking) return { succeeded: false, message: `build ${buildId} is ${found.state}` };

  // The same build always becomes the same version, so a repeated run finds what it did.
  const versionId = nameBasedUuid(buildId, 'version');
  let tagged = false;
  try {
    checkImageOfRepository(image);
    checkContainerImage(image, `the image of build ${buildId}`);
    await checkVersionImage(image, `the image of build ${buildId}`);
    const algorithm = await getAlgorithm(algorithmId);
    await tagVersionImage(image, versionId);
    tagged = true;
    if (algorithm.activeVersion?.id !== versionId) {
      await activateVersion(
        () => getAlgorithm(algorithmId),
        { id: versionId, image, createdAt: new Date().toISOString() },
        checking.createdBy,
        { attempts: ACTIVATION_ATTEMPTS, retired: retireVersionImage },
      );
    }
  } catch (err) {
    const message =
      err instanceof ApiError ? err.message : `the image could not be registered: ${(err as Error).message}`;
    if (!(err instanceof ApiError)) logger.error('a build could not be registered', { error: err as Error });
    if (tagged) await removeVersionTag(versionId).catch(() => undefined);
    await refuse(checking, message);
    return { succeeded: false, message };
  }
  await removeCandidateTag(buildId).catch((err: Error) =>
    logger.warn('the candidate tag of a registered build was not removed', { error: err }),
  );
  const ended = await endBuild(
    checking,
    { state: 'Succeeded', statusDetail: `its image is version ${versionId}, now active` },
    { from: ['Checking'], fields: { versionId } },
  );
  if (!ended) logger.warn('the build ended while it was registered; its version stays active', { versionId });
  logger.info('build registered', { versionId });
  return { succeeded: true };
}

/** Only images that the build pushed to the algorithm repository become versions. */
function checkImageOfRepository(image: string): void {
  const { uri } = algorithmRepository();
  if (!image.startsWith(`${uri}@`) && !image.startsWith(`${uri}:`)) {
    throw badRequest(`the image ${image} is not in the algorithm repository ${uri}`);
  }
}

async function refuse(build: BuildRecord, message: string): Promise<void> {
  await endBuild(
    build,
    { state: 'Failed', statusDetail: `the image was refused: ${message}` },
    { removeImage: true },
  );
  logger.info('build refused', { reason: message });
}

export const handler = backgroundHandler(registerBuild);
