import { settingsGroup, text, wholeNumber } from './settings';

/** How handlers sign CloudFront URLs of images: the distribution, the key pair and the URLs' lifetime. */
export const SIGNED_URLS = settingsGroup('image URL signing', {
  imagesBaseUrl: text,
  signingKeyPairId: text,
  signingKeySecretArn: text,
  signedUrlSeconds: wholeNumber,
});
