import { apiHandler } from '../../api/api-handler';
import { pageLimit } from '../../api/page-limit';
import { pageTokens } from '../../api/page-token';
import { parseEnvironment } from '../../contracts/handler-environment';
import { getBuildableAlgorithm } from '../build-algorithm';
import { buildView } from '../build-record';
import { listBuilds } from '../build-store';
import { operation } from './operation';

parseEnvironment(operation);

/** `GET /v1/algorithms/{algorithmId}/builds?limit=&nextToken=`: without their logs. */
export const handler = apiHandler(operation, async ({ caller, pathParameters, query }) => {
  const limit = pageLimit(operation, query.limit);
  const algorithm = await getBuildableAlgorithm(pathParameters.algorithmId, caller.userId);
  // A token resumes this algorithm's listing for this caller only; it carries the build id.
  const listing = `builds/${algorithm.id}/${caller.userId}`;
  const position =
    query.nextToken === undefined ? undefined : await pageTokens().open(listing, query.nextToken);
  const startKey = position && { algorithmId: algorithm.id, id: position.buildId };
  const page = await listBuilds(algorithm.id, limit, startKey);
  return {
    status: 200,
    body: {
      items: page.items.map((build) => buildView(build)),
      ...(page.lastKey && { nextToken: await pageTokens().issue(listing, { buildId: page.lastKey.id }) }),
    },
  };
});
