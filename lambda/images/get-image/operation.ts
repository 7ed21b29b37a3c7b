import { ApiOperation, schemaRef } from '../../contracts/handler-deployment';
import { imagesSchemas } from '../schemas';

/** `GET /v1/images/{imageId}`. */
export const getImageOperation: ApiOperation = {
  operationId: 'getImage',
  method: 'GET',
  path: '/v1/images/{imageId}',
  summary: 'Status, per-file errors, metadata and, once converted, a signed download URL',
  responses: { 200: schemaRef(imagesSchemas, 'Image') },
  handler: 'images/get-image',
  permissions: { tables: { images: ['dynamodb:GetItem'] }, signsImageUrls: true },
};
