import { VERIFIED_CLAIM } from '../lambda/contracts/user-claims';

/**
 * Users of local mode. Each token stands in for a Cognito ID token: the front door turns it
 * into the claims that API Gateway's Cognito authorizer would put on the event.
 */
export interface DevUser {
  readonly token: string;
  readonly claims: Readonly<Record<string, string>>;
}

export const DEV_USERS: readonly DevUser[] = [
  {
    token: 'dev-alice',
    claims: {
      sub: 'a11ce000-0000-4000-8000-000000000001',
      email: 'alice@example.org',
      [VERIFIED_CLAIM]: 'true',
    },
  },
  {
    token: 'dev-bob',
    claims: {
      sub: 'b0b00000-0000-4000-8000-000000000002',
      email: 'bob@example.org',
      [VERIFIED_CLAIM]: 'false',
    },
  },
  {
    token: 'dev-carol',
    claims: {
      sub: 'ca201000-0000-4000-8000-000000000003',
      email: 'carol@example.org',
      [VERIFIED_CLAIM]: 'true',
    },
  },
];

export function claimsForAuthorization(
  header: string | undefined,
): Readonly<Record<string, string>> | undefined {
  const token = header?.match(/^Bearer (\S+)$/)?.[1];
  return DEV_USERS.find((user) => user.token === token)?.claims;
}
