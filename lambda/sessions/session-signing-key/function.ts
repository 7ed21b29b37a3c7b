import { BackgroundFunction } from '../../contracts/handler-deployment';

/** The custom resource that makes the session signing key pair at deploy time. */
export const backgroundFunction: BackgroundFunction = {
  handler: 'sessions/session-signing-key',
  description: 'Generates the Ed25519 key pair that signs viewer session credentials into Secrets Manager',
  trigger: { kind: 'customResource', resourceType: 'Custom::SessionSigningKey' },
  sizing: { timeoutSeconds: 60 },
  permissions: { managesSigningKeys: true },
};
