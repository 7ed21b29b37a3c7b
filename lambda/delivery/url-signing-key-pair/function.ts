import { BackgroundFunction } from '../../contracts/handler-deployment';

/** The custom resource that makes one generation of the URL-signing key pair at deploy time. */
export const backgroundFunction: BackgroundFunction = {
  handler: 'delivery/url-signing-key-pair',
  description: 'Generates a generation of the CloudFront URL signing key pair into Secrets Manager',
  trigger: { kind: 'customResource', resourceType: 'Custom::UrlSigningKeyPair' },
  sizing: { timeoutSeconds: 120 },
  permissions: { managesSigningKeys: true },
};
