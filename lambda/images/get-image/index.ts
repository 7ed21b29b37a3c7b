import { apiHandler } from '../../api/api-handler';
import { parseEnvironment } from '../../contracts/handler-environment';
import { operation } from './operation';
import { imageUrlSigner } from '../../delivery/image-url-signer';
import { imageView } from '../image-record';
import { getVisibleImage } from '../image-store';
import { readImageFiles } from '../image-files';

parseEnvironment(operation);

/** `GET /v1/images/{imageId}`: the image, with a CloudFront signed URL once it is converted. */
export const handler = apiHandler(operation, async ({ caller, pathParameters }) => {
  const image = await getVisibleImage(pathParameters.imageId, caller.userId);
  const files = await readImageFiles(image);
  if (image.status !== 'Succeeded' || !image.outputKey) return { status: 200, body: imageView(image, files) };
  return {
    status: 200,
    body: imageView(image, files, await imageUrlSigner().signedDownload(image.outputKey)),
  };
});
