import { ApiOperation, schemaRef } from '../../contracts/handler-deployment';
import { imagesSchemas } from '../schemas';

/** `POST /v1/images`. */
export const createImageOperation: ApiOperation = {
  operationId: 'createImage',
  method: 'POST',
  path: '/v1/images',
  summary: 'Turn completed uploads into an image: records it as Queued and queues its conversion',
  requestSchema: schemaRef(imagesSchemas, 'CreateImageRequest'),
  responses: { 201: schemaRef(imagesSchemas, 'Image') },
  handler: 'images/create-image',
  permissions: {
    // claimUploadsForImage and releaseUploadsFromImage update uploads; a refused claim reads the
    // upload to say why. deleteUnqueuedImage undoes putImage when the message cannot be sent.
    tables: {
      uploads: ['dynamodb:UpdateItem', 'dynamodb:GetItem'],
      images: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
    },
    queuesConversions: true,
  },
};
