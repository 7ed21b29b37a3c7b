import { apiOperation, schemaRef } from '../../contracts/handler-deployment';
import {
  UPLOADS_PREFIX,
  IMAGES_PREFIX,
  jobManifestKey,
  jobOutputsPrefix,
} from '../../contracts/bucket-layout';
import { OBJECT_ENCRYPTION } from '../../contracts/permissions';
import { JOB_LIMITS } from '../../contracts/job-queues';
import { OUTPUT_LIMITS, WRITABLE_ROOT } from '../../contracts/job-runner';
import { jobsSchemas } from '../schemas';

export const operation = apiOperation('jobs/submit-job', 'POST /v1/jobs', {
  summary:
    'Run an algorithm on inputs that match one of its interfaces, and over the outputs of Succeeded jobs (predictions) as an evaluation; an Idempotency-Key header makes retries safe',
  parameters: [
    {
      name: 'Idempotency-Key',
      in: 'header',
      description:
        'Makes retries safe for a day: a retry with the same key and body returns the first job (200), with another body it is a 409',
      schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$' },
    },
  ],
  requestSchema: schemaRef(jobsSchemas, 'SubmitJobRequest'),
  responses: { 201: schemaRef(jobsSchemas, 'Job'), 200: schemaRef(jobsSchemas, 'Job') },
  permissions: {
    // The algorithm, each image or upload named as an input (and its stored file, read for its
    // version and size), the idempotency key, the slots, then the job and its manifest. The
    // staging job copies the files; the staging job of a job that failed to submit is stopped.
    // Each job named in predictions, its manifest, and its stored outputs (read for their version).
    tables: {
      algorithms: ['dynamodb:GetItem'],
      images: ['dynamodb:GetItem'],
      uploads: ['dynamodb:GetItem'],
      idempotencyKeys: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      activeJobs: ['dynamodb:UpdateItem'],
      jobs: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
    },
    imagingObjects: [
      { prefix: jobManifestKey('*'), actions: ['s3:PutObject', 's3:GetObject'] },
      { prefix: jobOutputsPrefix('*'), actions: ['s3:GetObject'] },
      { prefix: IMAGES_PREFIX, actions: ['s3:GetObject'] },
      { prefix: UPLOADS_PREFIX, actions: ['s3:GetObject'] },
    ],
    objectEncryption: OBJECT_ENCRYPTION,
    submitsJobs: true,
    terminatesJobs: true,
  },
  settings: [JOB_LIMITS, OUTPUT_LIMITS, WRITABLE_ROOT],
});
