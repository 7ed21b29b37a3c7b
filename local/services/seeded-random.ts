/**
 * A pseudo-random source from a seed (mulberry32), so that a run of the stand-ins' random
 * choices (which messages SQS duplicates, which it hands out of order) can be repeated.
 */
export interface SeededRandom {
  readonly seed: number;
  /** A number from 0 (inclusive) to 1 (exclusive). */
  next(): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** The items in a random order; `items` is left as it is. */
  shuffled<T>(items: readonly T[]): T[];
}

export function seededRandom(seed: number): SeededRandom {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    seed,
    next,
    chance: (p) => p > 0 && next() < p,
    shuffled: (items) => {
      const copy = [...items];
      for (let i = copy.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [copy[i], copy[j]] = [copy[j], copy[i]];
      }
      return copy;
    },
  };
}
