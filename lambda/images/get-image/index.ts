import { apiHandler } from '../../api/api-handler';
import { parseEnvironment } from '../../contracts/handler-environment';
import { operation } from './operation';
import { imageUrlSigner } from '../../delivery/image-url-signer';
import { imageView } from '../image-record';
import { getVisibleImage } from '../image-store';

parseEnvironment(operation);

/** `GET /v1/images/{imageId}`: the image, with a CloudFront signed URL once it is converted. */
export const handler = apiHandler(operation, async ({ caller, pathParameters }) => {
  const image = await getVisibleImage(pathParameters.imageId, caller.userId);
  if (image.status !== 'Succeeded' || !image.outputKey) return { status: 200, body: imageView(image) };
  return { status: 200, body: imageView(image, await imageUrlSigner().signedDownload(image.outputKey)) };
});
