import { BuildState } from '../contracts/builds';
import { logger } from '../core/logger';
import { BuildRecord } from './build-record';
import { removeCandidateTag } from './build-images';
import { releaseBuildSlot } from './build-slots';
import { BuildMove, moveBuild } from './build-store';

/** The states a build can end from. */
export const UNENDED_BUILD_STATES: readonly BuildState[] = ['Pending', 'Queued', 'Building', 'Checking'];

/**
 * Ends a build with one conditional write from `from` (by default any state but a terminal
 * one): only the write that ends it gives its creator's slot back, so the slot is released once
 * whatever is delivered twice. A build that did not succeed leaves no candidate image, once it
 * got as far as CodeBuild. The build as ended, or undefined when it had ended already or was not
 * in `from`.
 */
export async function endBuild(
  build: Pick<BuildRecord, 'algorithmId' | 'id'>,
  outcome: { readonly state: 'Succeeded' | 'Failed' | 'Cancelled'; readonly statusDetail: string },
  options: {
    readonly from?: readonly BuildState[];
    readonly fields?: BuildMove['fields'];
    /** @default - once the build reached CodeBuild */
    readonly removeImage?: boolean;
  } = {},
): Promise<BuildRecord | undefined> {
  const ended = await moveBuild(build, {
    from: options.from ?? UNENDED_BUILD_STATES,
    to: outcome.state,
    statusDetail: outcome.statusDetail,
    fields: { ...options.fields, endedAt: new Date().toISOString() },
  });
  if (!ended) return undefined;
  await releaseBuildSlot(ended.createdBy);
  if (ended.state !== 'Succeeded' && (options.removeImage ?? ended.codebuildId !== undefined)) {
    await removeCandidateTag(ended.id).catch((err: Error) =>
      // The repository's lifecycle rule expires candidate images the platform could not remove.
      logger.warn('the candidate image of an ended build was not removed', { buildId: ended.id, error: err }),
    );
  }
  return ended;
}
