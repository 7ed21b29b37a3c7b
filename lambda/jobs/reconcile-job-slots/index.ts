import { parseEnvironment } from '../../contracts/handler-environment';
import { backgroundHandler } from '../../core/background-handler';
import { logger } from '../../core/logger';
import { reconcileJobSlots } from '../slot-reconciliation';
import { backgroundFunction } from './function';

parseEnvironment(backgroundFunction);

/** Runs on a schedule: see `reconcileJobSlots`. */
async function reconcileSlots(): Promise<{ corrected: number }> {
  const corrected = await reconcileJobSlots();
  logger.info('job slots reconciled', { corrected });
  return { corrected };
}

export const handler = backgroundHandler(reconcileSlots);
