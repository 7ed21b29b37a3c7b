import { apiOperation, schemaRef } from '../../contracts/handler-deployment';
import { UPLOADS_PREFIX } from '../../contracts/bucket-layout';
import { MODEL_LIMITS } from '../../contracts/model-limits';
import { algorithmsSchemas } from '../schemas';

export const operation = apiOperation(
  'algorithms/create-algorithm-model',
  'POST /v1/algorithms/{algorithmId}/models',
  {
    summary:
      "Editors only: make a Completed upload (.tar.gz or .tgz) of the caller's a model of the algorithm, validated before it can be made active",
    requestSchema: schemaRef(algorithmsSchemas, 'CreateAlgorithmModelRequest'),
    responses: { 201: schemaRef(algorithmsSchemas, 'AlgorithmModel') },
    permissions: {
      // The algorithm and the upload are read, the upload's object is pinned (its version and
      // ETag), then the upload is claimed for the model and the model stored; the validator copies it.
      tables: {
        algorithms: ['dynamodb:GetItem'],
        uploads: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        algorithmModels: ['dynamodb:PutItem'],
      },
      imagingObjects: [{ prefix: UPLOADS_PREFIX, actions: ['s3:GetObject'] }],
      // HeadObject of an object encrypted with the bucket key.
      objectEncryption: ['kms:Decrypt'],
    },
    settings: [MODEL_LIMITS],
  },
);
