/** A caller's mistake, answered as `{ error: { code, message } }` with a 4xx status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const badRequest = (message: string) => new ApiError(400, 'BadRequest', message);
export const unauthorized = (message: string) => new ApiError(401, 'Unauthorized', message);
/** For what the caller can see but not change. */
export const forbidden = (message: string) => new ApiError(403, 'Forbidden', message);
/** Also for what exists but is not the caller's: a caller never learns whether it exists. */
export const notFound = (what: string) => new ApiError(404, 'NotFound', `${what} not found`);
export const conflict = (message: string) => new ApiError(409, 'Conflict', message);
export const payloadTooLarge = (message: string) => new ApiError(413, 'PayloadTooLarge', message);
export const limitExceeded = (message: string) => new ApiError(429, 'LimitExceeded', message);
/** For what this deployment lacks (no viewer deployed): the caller's request may succeed elsewhere. */
export const serviceUnavailable = (message: string) => new ApiError(503, 'ServiceUnavailable', message);
