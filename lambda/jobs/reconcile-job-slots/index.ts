import { parseEnvironment } from '../../contracts/handler-environment';
import { logger } from '../../core/logger';
import { reconcileJobSlots } from '../slot-reconciliation';
import { backgroundFunction } from './function';

parseEnvironment(backgroundFunction);

/** Runs on a schedule: see `reconcileJobSlots`. */
export async function handler(): Promise<{ corrected: number }> {
  logger.resetKeys();
  const corrected = await reconcileJobSlots();
  logger.info('job slots reconciled', { corrected });
  return { corrected };
}
