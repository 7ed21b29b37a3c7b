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
