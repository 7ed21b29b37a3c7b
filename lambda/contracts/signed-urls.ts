import { settingsGroup, text, wholeNumber } from './settings';

/**
 * How handlers sign CloudFront URLs of images: the distribution, the secret that names the key
 * pair that signs now (read at run time, see `current-signing-key.ts`) and the URLs' lifetime.
 */
export const SIGNED_URLS = settingsGroup('image URL signing', {
  imagesBaseUrl: text,
  currentSigningKeySecretArn: text,
  signedUrlSeconds: wholeNumber,
});
