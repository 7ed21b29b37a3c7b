import { apiHandler } from '../../api/api-handler';
import { pageLimit } from '../../api/page-limit';
import { pageTokens } from '../../api/page-token';
import { parseEnvironment } from '../../contracts/handler-environment';
import { operation } from './operation';
import { algorithmView } from '../algorithm-record';
import { listVisibleAlgorithms } from '../algorithm-store';

parseEnvironment(operation);

/** `GET /v1/algorithms?limit=&nextToken=`: the algorithms the caller edits or may run. */
export const handler = apiHandler(operation, async ({ caller, query }) => {
  const limit = pageLimit(operation, query.limit);
  // A caller's listing: their token resumes nobody else's. It carries only the algorithm id (the
  // user id is the caller's), which keeps it within the 200 characters the route declares.
  const listing = `algorithms/${caller.userId}`;
  const position =
    query.nextToken === undefined ? undefined : await pageTokens().open(listing, query.nextToken);
  const startKey = position && { userId: caller.userId, algorithmId: position.algorithmId };
  const page = await listVisibleAlgorithms(caller.userId, limit, startKey);
  return {
    status: 200,
    body: {
      items: page.items.map(({ algorithm, role }) => algorithmView(algorithm, role)),
      ...(page.lastKey && {
        nextToken: await pageTokens().issue(listing, { algorithmId: page.lastKey.algorithmId }),
      }),
    },
  };
});
