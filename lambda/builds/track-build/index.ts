import {
  BUILD_LIMITS,
  BUILD_PIPELINE,
  BUILD_PIPELINE_NAME,
  BuildStateChangeDetail,
} from '../../contracts/builds';
import { parseEnvironment } from '../../contracts/handler-environment';
import { backgroundHandler } from '../../core/background-handler';
import { logger } from '../../core/logger';
import { endBuild } from '../build-ending';
import { buildResult, failureReason, readLogTail } from '../build-logs';
import { findBuild, moveBuild, recordBuildFields } from '../build-store';
import { backgroundFunction } from './function';

parseEnvironment(backgroundFunction);
const { buildLogGroup } = BUILD_PIPELINE_NAME.read();
const { buildTimeoutMinutes } = BUILD_LIMITS.read();

/** Lines of a failed build's log that stand for its reason when the builder wrote none. */
const FALLBACK_LINES = 5;

/**
 * Moves a build on CodeBuild's `Build State Change` events, which name the build by the pipeline's
 * variables in CodeBuild's environment. Every write is conditional: a late or repeated event
 * changes nothing, and a build that ended stays as it ended.
 */
async function trackBuild(event: { detail: BuildStateChangeDetail }): Promise<void> {
  const { detail } = event;
  const info = detail['additional-information'];
  const variables = info.environment?.['environment-variables'] ?? [];
  const variable = (name: string) => variables.find((v) => v.name === name)?.value;
  const algorithmId = variable(BUILD_PIPELINE.variables.algorithmId);
  const buildId = variable(BUILD_PIPELINE.variables.buildId);
  logger.appendKeys({ algorithmId, buildId, status: detail['build-status'] });
  if (!algorithmId || !buildId) {
    logger.warn('a build state change without the build it is for', { codebuildId: detail['build-id'] });
    return;
  }
  const build = await findBuild(algorithmId, buildId);
  if (!build) {
    logger.warn('a build state change of an unknown build');
    return;
  }
  const reported = {
    codebuildId: detail['build-id'],
    ...(info.logs?.['stream-name'] && { logStream: info.logs['stream-name'] }),
  };
  const logStream = reported.logStream ?? build.logStream;
  const lines = async () => (logStream ? readLogTail(buildLogGroup, logStream) : []);
  switch (detail['build-status']) {
    case 'IN_PROGRESS': {
      // CodeBuild writes it as `Dec 5, 2026 2:00:00 PM`, in UTC; an unreadable one is taken as now.
      const reportedStart = new Date(info['build-start-time'] ?? Date.now());
      const startedAt = (Number.isNaN(reportedStart.getTime()) ? new Date() : reportedStart).toISOString();
      const moved = await moveBuild(build, {
        from: ['Queued'],
        to: 'Building',
        statusDetail: 'CodeBuild builds its image',
        fields: { ...reported, startedAt },
      });
      if (moved) return;
      // A later run of the same build (its action retried): its log replaces the earlier run's.
      if (
        build.state === 'Building' &&
        build.codebuildId !== reported.codebuildId &&
        build.startedAt !== undefined &&
        build.startedAt < startedAt
      ) {
        await moveBuild(build, {
          from: ['Building'],
          to: 'Building',
          statusDetail: 'CodeBuild builds its image again',
          fields: { ...reported, startedAt },
        });
        return;
      }
      // Later than a state past it: what it names is kept, if nothing named it yet.
      await recordBuildFields(build, { ...reported, startedAt });
      return;
    }
    case 'SUCCEEDED': {
      // The image is checked and registered by the pipeline's next action.
      const result = build.result ? undefined : buildResult(await lines());
      await recordBuildFields(build, { ...reported, ...(result && { result }) });
      return;
    }
    case 'TIMED_OUT':
      await endBuild(
        build,
        {
          state: 'Failed',
          statusDetail: `the build ran past builds.timeoutMinutes (${buildTimeoutMinutes} minutes)`,
        },
        { fields: reported },
      );
      return;
    case 'STOPPED':
      // A cancelled build has ended already, and stays Cancelled.
      await endBuild(
        build,
        { state: 'Failed', statusDetail: 'the build was stopped before it finished' },
        {
          fields: reported,
        },
      );
      return;
    case 'FAILED':
    case 'FAULT': {
      const log = await lines();
      const reason =
        failureReason(log) ??
        (log.length > 0
          ? `the build failed; its log ends: ${log.slice(-FALLBACK_LINES).join(' | ')}`
          : 'the build failed before it wrote a log');
      await endBuild(build, { state: 'Failed', statusDetail: reason }, { fields: reported });
      return;
    }
  }
}

export const handler = backgroundHandler(trackBuild);
