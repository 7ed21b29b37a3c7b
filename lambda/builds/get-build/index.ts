import { apiHandler } from '../../api/api-handler';
import { BUILD_PIPELINE_NAME } from '../../contracts/builds';
import { parseEnvironment } from '../../contracts/handler-environment';
import { getBuildableAlgorithm } from '../build-algorithm';
import { readLogTail } from '../build-logs';
import { buildView } from '../build-record';
import { getBuild } from '../build-store';
import { operation } from './operation';

parseEnvironment(operation);

const { buildLogGroup } = BUILD_PIPELINE_NAME.read();

/** `GET /v1/algorithms/{algorithmId}/builds/{buildId}`: with its log's tail once CodeBuild runs it. */
export const handler = apiHandler(operation, async ({ caller, pathParameters }) => {
  const algorithm = await getBuildableAlgorithm(pathParameters.algorithmId, caller.userId);
  const build = await getBuild(algorithm.id, pathParameters.buildId);
  const logTail = build.logStream ? await readLogTail(buildLogGroup, build.logStream) : [];
  return { status: 200, body: buildView(build, logTail) };
});
