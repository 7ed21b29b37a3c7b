import { apiOperation, schemaRef } from '../../contracts/handler-deployment';
import { imagesSchemas } from '../schemas';

export const operation = apiOperation('images/get-image', 'GET /v1/images/{imageId}', {
  summary: 'Status, per-file errors, metadata and, once converted, a signed download URL',
  responses: { 200: schemaRef(imagesSchemas, 'Image') },
  permissions: {
    tables: { images: ['dynamodb:GetItem'], imageFiles: ['dynamodb:Query'] },
    signsImageUrls: true,
  },
});
