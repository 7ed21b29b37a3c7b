/**
 * Runs `work` on every item with at most `concurrency` calls under way. After the first failure no
 * new call starts; the calls under way are waited for, so that nothing runs on after the caller
 * has moved on (to undo what was done, for one). Resolves with every item's outcome, in order:
 * `undefined` for items never started.
 */
export async function settleBounded<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<(PromiseSettledResult<R> | undefined)[]> {
  const outcomes: (PromiseSettledResult<R> | undefined)[] = new Array(items.length).fill(undefined);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        outcomes[i] = { status: 'fulfilled', value: await work(items[i], i) };
      } catch (reason) {
        outcomes[i] = { status: 'rejected', reason };
        failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return outcomes;
}

/** As `settleBounded`, throwing the first failure (by position) once the calls under way ended. */
export async function mapBounded<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const outcomes = await settleBounded(items, concurrency, work);
  const failure = outcomes.find((o): o is PromiseRejectedResult => o?.status === 'rejected');
  if (failure) throw failure.reason;
  return outcomes.map((o) => (o as PromiseFulfilledResult<R>).value);
}
