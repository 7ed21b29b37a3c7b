import { apiOperation, schemaRef } from '../../contracts/handler-deployment';
import { IMAGE_UPLOAD_LIMITS } from '../../contracts/upload-limits';
import { commonSchemas } from '../../api/common-schemas';
import { imagesSchemas } from '../schemas';

export const operation = apiOperation('images/create-image', 'POST /v1/images', {
  summary: 'Turn completed uploads into an image: records it as Queued and queues its conversion',
  requestSchema: schemaRef(imagesSchemas, 'CreateImageRequest'),
  // 503: the claims took longer than the API's time allows (a throttled table); none was kept.
  responses: { 201: schemaRef(imagesSchemas, 'Image'), 503: schemaRef(commonSchemas, 'Error') },
  permissions: {
    // claimUploadsForImage and releaseUploadsFromImage update uploads; a refused claim reads the
    // upload to say why. The file list is written in pages; deleteUnqueuedImage and
    // deleteImageFiles undo putImage and putImageFiles when the message cannot be sent.
    tables: {
      uploads: ['dynamodb:UpdateItem', 'dynamodb:GetItem'],
      // GetItem: whether the image holding a claim was ever made (an abandoned claim is taken over).
      images: ['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem'],
      imageFiles: ['dynamodb:BatchWriteItem'],
    },
    queuesConversions: true,
  },
  settings: [IMAGE_UPLOAD_LIMITS],
});
