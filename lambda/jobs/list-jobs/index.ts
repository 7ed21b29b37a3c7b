import { badRequest } from '../../api/api-error';
import { apiHandler } from '../../api/api-handler';
import { pageLimit } from '../../api/page-limit';
import { pageTokens } from '../../api/page-token';
import { parseEnvironment } from '../../contracts/handler-environment';
import { operation } from './operation';
import { JOB_STATUSES } from '../schemas';
import { getVisibleAlgorithm } from '../../algorithms/algorithm-store';
import { JobStatus, jobView } from '../job-record';
import { queryJobs } from '../job-store';

parseEnvironment(operation);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * `GET /v1/jobs?algorithm=&status=&limit=&nextToken=`: the caller's own jobs, newest first; an
 * editor who names their algorithm gets all of its jobs.
 */
export const handler = apiHandler(operation, async ({ caller, query }) => {
  const limit = pageLimit(operation, query.limit);
  if (query.algorithm !== undefined && !UUID.test(query.algorithm))
    throw badRequest('algorithm must be a lower-case UUID');
  if (query.status !== undefined && !(JOB_STATUSES as readonly string[]).includes(query.status)) {
    throw badRequest(`status must be one of: ${JOB_STATUSES.join(', ')}`);
  }
  let by: { owner: string } | { algorithmId: string } = { owner: caller.userId };
  if (query.algorithm !== undefined) {
    const { role } = await getVisibleAlgorithm(query.algorithm, caller.userId).catch(() => ({
      role: undefined,
    }));
    if (role === 'editor') by = { algorithmId: query.algorithm };
  }
  // The caller and the whole query: a token resumes only the listing it was issued for.
  const listing = ['jobs', caller.userId, JSON.stringify(by), query.algorithm ?? '', query.status ?? ''].join(
    '/',
  );
  const startKey =
    query.nextToken === undefined ? undefined : await pageTokens().open(listing, query.nextToken);
  const page = await queryJobs(
    by,
    { algorithmId: query.algorithm, status: query.status as JobStatus | undefined },
    limit,
    startKey,
  );
  return {
    status: 200,
    body: {
      items: page.items.map((job) => jobView(job)),
      ...(page.lastKey && { nextToken: await pageTokens().issue(listing, page.lastKey) }),
    },
  };
});
