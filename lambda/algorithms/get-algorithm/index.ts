import { apiHandler } from '../../api/api-handler';
import { parseEnvironment } from '../../contracts/handler-environment';
import { getAlgorithmOperation } from './operation';
import { algorithmView } from '../algorithm-record';
import { getVisibleAlgorithm } from '../algorithm-store';

parseEnvironment(getAlgorithmOperation);

/** `GET /v1/algorithms/{algorithmId}`. */
export const handler = apiHandler(getAlgorithmOperation, async ({ caller, pathParameters }) => {
  const { algorithm, role } = await getVisibleAlgorithm(pathParameters.algorithmId, caller.userId);
  return { status: 200, body: algorithmView(algorithm, role) };
});
