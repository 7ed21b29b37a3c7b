import { CORS_ALLOW_METHODS, CORS_MAX_AGE_SECONDS } from '../../lambda/contracts/cors-preflight';

/**
 * The answer of the REST API's CORS preflight (`OPTIONS` on any resource), as CDK's mock
 * integration renders it: 204; the first web origin, or the caller's when it is one of the
 * others; the allowed methods and headers, and how long a browser keeps them.
 */
export function preflightHeaders(
  webOrigins: readonly string[],
  allowHeaders: readonly string[],
  origin: string | undefined,
): Readonly<Record<string, string>> {
  const [first, ...others] = webOrigins;
  return {
    'access-control-allow-headers': allowHeaders.join(','),
    'access-control-allow-origin': origin !== undefined && others.includes(origin) ? origin : first,
    ...(first !== '*' && { vary: 'Origin' }),
    'access-control-allow-methods': CORS_ALLOW_METHODS.join(','),
    'access-control-max-age': String(CORS_MAX_AGE_SECONDS),
  };
}
