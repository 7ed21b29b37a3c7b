/** Why a file cannot become (part of) an image, in words a person can act on. */
export class Rejection extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'Rejection';
  }
}

export function reject(reason: string): never {
  throw new Rejection(reason);
}

/**
 * What a library threw, in words: an Error's message, a thrown string, or the `exception` that
 * dicom-parser throws wrapped with its partly parsed data set; never `[object Object]`.
 */
export function thrownText(thrown: unknown): string {
  if (thrown instanceof Error) return thrown.message || thrown.name;
  // An error of another realm (a VM context, a worker) is no instance of this one's Error.
  if (typeof thrown === 'object' && thrown !== null && typeof (thrown as Error).message === 'string') {
    const { message } = thrown as Error;
    if (message !== '') return message;
  }
  if (typeof thrown === 'string' && thrown !== '') return thrown;
  if (typeof thrown === 'object' && thrown !== null && 'exception' in thrown) {
    return thrownText((thrown as { exception: unknown }).exception);
  }
  return 'an error that gives no reason';
}
