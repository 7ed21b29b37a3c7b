import { notFound } from '../api/api-error';
import { AlgorithmRecord } from '../algorithms/algorithm-record';
import { getVisibleAlgorithm } from '../algorithms/algorithm-store';

/**
 * The algorithm, if the caller is one of its editors. Builds are its editors' alone: anyone
 * else, its users too, gets the 404 of an algorithm that does not exist.
 */
export async function getBuildableAlgorithm(algorithmId: string, userId: string): Promise<AlgorithmRecord> {
  const { algorithm, role } = await getVisibleAlgorithm(algorithmId, userId);
  if (role !== 'editor') throw notFound(`algorithm ${algorithmId}`);
  return algorithm;
}
