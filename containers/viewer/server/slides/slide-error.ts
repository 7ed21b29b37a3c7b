/**
 * Why a slide or one of its tiles cannot be served, with the HTTP status a tile route answers:
 * 404 a tile outside the pyramid, 415 a file the viewer cannot show (its compression or samples),
 * 502 a slide that cannot be read through its URL (refused, truncated, damaged).
 * Messages never carry the slide's URL: it holds the signature that grants access to it.
 */
export class SlideError extends Error {
  constructor(
    message: string,
    readonly status: 404 | 415 | 502,
  ) {
    super(message);
    this.name = 'SlideError';
  }
}
