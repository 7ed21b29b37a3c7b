/** The API and bearer token a terminal command calls with: its flags, else `$API` and `$AUTH`. */
export function apiAccess(
  values: { readonly api?: string; readonly token?: string },
  env: NodeJS.ProcessEnv,
): { api: string; token: string | undefined } {
  return {
    api: (values.api ?? env.API ?? 'http://127.0.0.1:4000/v1').replace(/\/+$/, ''),
    token: values.token ?? /^\s*Authorization:\s*Bearer\s+(\S+)\s*$/i.exec(env.AUTH ?? '')?.[1],
  };
}

export const API_ACCESS_USAGE = `  --api <url>         the API (default: $API, else http://127.0.0.1:4000/v1)
  --token <token>     a bearer token (default: from $AUTH, "Authorization: Bearer <token>")`;
