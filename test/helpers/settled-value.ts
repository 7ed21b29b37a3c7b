import { isDeepStrictEqual } from 'node:util';

/**
 * What `read` gives once it gives (a deep equal of) `expected`, or after 5 s whatever it gives then: the write that
 * ends a job or build comes before the ones that give its slots back and remove what it made, so a reader may see the end first.
 */
export async function settledValue<T>(read: () => Promise<T>, expected: T): Promise<T> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const value = await read();
    if (isDeepStrictEqual(value, expected)) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return read();
}
