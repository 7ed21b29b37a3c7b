/**
 * How far a stand-in's deliveries depart from exactly once and in order, as SQS standard queues
 * and EventBridge do: both deliver at least once, in no guaranteed order. The random choices come
 * from a seed, so that a run can be repeated.
 */
export interface Delivery {
  /** Seed of the random choices: the same seed and the same calls give the same deliveries. */
  readonly seed: number;
  /** Chance that a message or event is delivered twice. */
  readonly duplicateRate: number;
  /** Chance that a delivery is taken out of order. */
  readonly reorderRate: number;
}

/** As AWS usually delivers: now and then a duplicate, order loosely kept. */
export const USUAL_DELIVERY: Omit<Delivery, 'seed'> = { duplicateRate: 0.01, reorderRate: 0.2 };

/** For tests: every other delivery twice, every one out of order. */
export const CHAOS_DELIVERY: Omit<Delivery, 'seed'> = { duplicateRate: 0.5, reorderRate: 1 };

/** Exactly once, in order: for tests that count what was delivered. */
export const EXACT_DELIVERY: Omit<Delivery, 'seed'> = { duplicateRate: 0, reorderRate: 0 };
