import { apiHandler } from '../../api/api-handler';
import { pageLimit } from '../../api/page-limit';
import { pageTokens } from '../../api/page-token';
import { parseEnvironment } from '../../contracts/handler-environment';
import { operation } from './operation';
import { listModels, modelView } from '../algorithm-models';
import { getEditableAlgorithm } from '../algorithm-store';

parseEnvironment(operation);

/** `GET /v1/algorithms/{algorithmId}/models?limit=&nextToken=`. */
export const handler = apiHandler(operation, async ({ caller, pathParameters, query }) => {
  const limit = pageLimit(operation, query.limit);
  const algorithm = await getEditableAlgorithm(pathParameters.algorithmId, caller.userId);
  // A token resumes this algorithm's listing for this caller only; it carries the model id.
  const listing = `algorithm-models/${algorithm.id}/${caller.userId}`;
  const position =
    query.nextToken === undefined ? undefined : await pageTokens().open(listing, query.nextToken);
  const startKey = position && { algorithmId: algorithm.id, id: position.modelId };
  const page = await listModels(algorithm.id, limit, startKey);
  return {
    status: 200,
    body: {
      items: page.items.map((model) => modelView(model, algorithm.activeModel?.id)),
      ...(page.lastKey && { nextToken: await pageTokens().issue(listing, { modelId: page.lastKey.id }) }),
    },
  };
});
