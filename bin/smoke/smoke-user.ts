import {
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { AuthenticationDetails, CognitoUser, CognitoUserPool } from 'amazon-cognito-identity-js';
import { randomBytes, randomUUID } from 'node:crypto';
import { VERIFIED_CLAIM } from '../../lambda/contracts/user-claims';
import { Deployment } from './stack-outputs';

/** A researcher made for one smoke run: verified, signed in as the app signs in (SRP). */
export interface SmokeUser {
  readonly email: string;
  /** The ID token the API's authorizer accepts. */
  readonly idToken: string;
  /** Deletes the user; what it made stays, owned by nobody who can sign in. */
  remove(): Promise<void>;
}

export async function createSmokeUser(deployment: Deployment): Promise<SmokeUser> {
  const cognito = new CognitoIdentityProviderClient({ region: deployment.region });
  // A reserved domain: no message can reach anyone, and none is sent (SUPPRESS).
  const email = `smoke-${randomUUID()}@example.invalid`;
  // Upper, lower, digit and symbol, as the pool's policy requires.
  const password = `Sm0ke!${randomBytes(18).toString('base64url')}`;
  await cognito.send(
    new AdminCreateUserCommand({
      UserPoolId: deployment.userPoolId,
      Username: email,
      MessageAction: 'SUPPRESS',
      UserAttributes: [
        { Name: 'email', Value: email },
        { Name: 'email_verified', Value: 'true' },
        { Name: VERIFIED_CLAIM, Value: 'true' },
      ],
    }),
  );
  const remove = async () => {
    await cognito.send(new AdminDeleteUserCommand({ UserPoolId: deployment.userPoolId, Username: email }));
    cognito.destroy();
  };
  try {
    await cognito.send(
      new AdminSetUserPasswordCommand({
        UserPoolId: deployment.userPoolId,
        Username: email,
        Password: password,
        Permanent: true,
      }),
    );
    const idToken = await signIn(deployment, email, password);
    return { email, idToken, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}

/** SRP sign-in with the app client, which allows no other flow. */
function signIn(deployment: Deployment, email: string, password: string): Promise<string> {
  const pool = new CognitoUserPool({
    UserPoolId: deployment.userPoolId,
    ClientId: deployment.userPoolClientId,
  });
  const user = new CognitoUser({ Username: email, Pool: pool });
  return new Promise((resolve, reject) => {
    user.authenticateUser(new AuthenticationDetails({ Username: email, Password: password }), {
      onSuccess: (session) => resolve(session.getIdToken().getJwtToken()),
      onFailure: (err: Error) => reject(new Error(`sign-in of ${email} failed: ${err.message}`)),
      mfaSetup: () =>
        reject(new Error(`sign-in of ${email} asks to set up MFA, which the pool should leave optional`)),
      totpRequired: () => reject(new Error(`sign-in of ${email} asks for a TOTP code`)),
      mfaRequired: () => reject(new Error(`sign-in of ${email} asks for an MFA code`)),
      newPasswordRequired: () => reject(new Error(`sign-in of ${email} asks for a new password`)),
    });
  });
}
