import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  ECRClient,
  PutImageCommand,
} from '@aws-sdk/client-ecr';
import type { AlgorithmVersionRef } from '../algorithms/algorithm-record';
import { ALGORITHM_REPOSITORY, BUILD_IMAGE_TAGS } from '../contracts/builds';
import { logger } from '../core/logger';

/**
 * How local mode tags and removes images in its container engine, where builds stay: its
 * repository is `localhost/...`, which ECR does not hold.
 */
export interface LocalBuildImages {
  /** Adds `tag` to `image` (`<repository>@sha256:...` or `<repository>:<tag>`) in its repository. */
  tag(image: string, tag: string): Promise<void>;
  /** Removes `<repository>:<tag>`, and the image once no tag is left to it; a missing one is no error. */
  remove(repository: string, tag: string): Promise<void>;
}

let localBuildImages: LocalBuildImages | undefined;

/** Set by local mode where it starts the function; a deployed function never has one. */
export function useLocalBuildImages(images: LocalBuildImages): void {
  localBuildImages = images;
}

let ecr: ECRClient | undefined;
const client = () => (ecr ??= new ECRClient({}));

/** The algorithm repository: `<account>.dkr.ecr.<region>.amazonaws.com/<name>`, or local mode's `localhost/...`. */
export function algorithmRepository() {
  const { algorithmRepositoryUri: uri } = ALGORITHM_REPOSITORY.read();
  const slash = uri.indexOf('/');
  return {
    uri,
    local: uri.startsWith('localhost/'),
    registryId: uri.slice(0, slash).split('.')[0],
    repositoryName: uri.slice(slash + 1),
  };
}

/** Tags a build's image with its version's tag (`version-<id>`), in the algorithm repository. */
export async function tagVersionImage(image: string, versionId: string): Promise<void> {
  await tagImage(image, BUILD_IMAGE_TAGS.version(versionId));
}

/** Adds `imageTag` to an image of the algorithm repository (by digest); a tag it has already is no error. */
async function tagImage(image: string, imageTag: string): Promise<void> {
  const repo = algorithmRepository();
  if (repo.local) {
    if (localBuildImages) return localBuildImages.tag(image, imageTag);
    logger.warn('a local build image is left untagged: no container engine hook', { image, imageTag });
    return;
  }
  const imageDigest = image.slice(image.indexOf('@') + 1);
  const { registryId, repositoryName } = repo;
  const { images } = await client().send(
    new BatchGetImageCommand({ registryId, repositoryName, imageIds: [{ imageDigest }] }),
  );
  const found = images?.[0];
  if (!found?.imageManifest) throw new Error(`image ${image} is not in the algorithm repository`);
  try {
    await client().send(
      new PutImageCommand({
        registryId,
        repositoryName,
        imageManifest: found.imageManifest,
        imageManifestMediaType: found.imageManifestMediaType,
        imageDigest,
        imageTag,
      }),
    );
  } catch (err) {
    // Tagged already, by an earlier run of the same step.
    if ((err as Error).name !== 'ImageAlreadyExistsException') throw err;
  }
}

/** Removes a build's candidate tag: its image stays only under a version's tag, if it has one. */
export async function removeCandidateTag(buildId: string): Promise<void> {
  await removeTag(BUILD_IMAGE_TAGS.candidate(buildId));
}

/**
 * A retired version's image, if a build made it, moves from its `version-` tag to `retired-`,
 * which the repository's lifecycle expires some days after its last pull. A failure is logged:
 * the image then stays under its version's tag, kept, which is safe.
 */
export async function retireVersionImage(version: Pick<AlgorithmVersionRef, 'id' | 'image'>): Promise<void> {
  if (!version.image.startsWith(`${algorithmRepository().uri}@`)) return;
  try {
    await tagImage(version.image, BUILD_IMAGE_TAGS.retired(version.id));
    await removeVersionTag(version.id);
  } catch (err) {
    logger.warn('the image of a retired version keeps its version tag', {
      versionId: version.id,
      error: err as Error,
    });
  }
}

/** Removes a version's tag from a refused build's image. */
export async function removeVersionTag(versionId: string): Promise<void> {
  await removeTag(BUILD_IMAGE_TAGS.version(versionId));
}

/** Deletes a tag of the algorithm repository; an image left without tags goes with it. */
async function removeTag(imageTag: string): Promise<void> {
  const repo = algorithmRepository();
  if (repo.local) {
    if (localBuildImages) return localBuildImages.remove(repo.uri, imageTag);
    logger.warn('a local build image is left as it is: no container engine hook', { imageTag });
    return;
  }
  const { registryId, repositoryName } = repo;
  const { failures } = await client().send(
    new BatchDeleteImageCommand({ registryId, repositoryName, imageIds: [{ imageTag }] }),
  );
  // A tag that is gone already is what was wanted.
  const failure = failures?.find((f) => f.failureCode !== 'ImageNotFound');
  if (failure) {
    throw new Error(`tag ${imageTag} could not be removed: ${failure.failureCode} ${failure.failureReason}`);
  }
}
