/**
 * What `read` gives once it gives `expected`, or after 5 s whatever it gives then: the write that
 * ends a job comes before the one that gives its slots back, so a reader may see the end first.
 */
export async function settledValue<T>(read: () => Promise<T>, expected: T): Promise<T> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const value = await read();
    if (value === expected) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return read();
}
