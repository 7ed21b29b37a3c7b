import { apiHandler } from '../../api/api-handler';
import { parseEnvironment } from '../../contracts/handler-environment';
import { operation } from './operation';
import { algorithmView } from '../algorithm-record';
import { getVisibleAlgorithm } from '../algorithm-store';

parseEnvironment(operation);

/** `GET /v1/algorithms/{algorithmId}`. */
export const handler = apiHandler(operation, async ({ caller, pathParameters }) => {
  const { algorithm, role } = await getVisibleAlgorithm(pathParameters.algorithmId, caller.userId);
  return { status: 200, body: algorithmView(algorithm, role) };
});
