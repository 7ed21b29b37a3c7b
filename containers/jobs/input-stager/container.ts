import {
  IMAGES_PREFIX,
  jobInputsPrefix,
  jobManifestKey,
  jobOutputsPrefix,
  jobModelKey,
  modelObjectKey,
  UPLOADS_PREFIX,
} from '../../../lambda/contracts/bucket-layout';
import { ContainerDeployment } from '../../../lambda/contracts/handler-deployment';
import { INPUT_COPIES } from '../../../lambda/contracts/job-queues';
import { OBJECT_ENCRYPTION } from '../../../lambda/contracts/permissions';

/** Any job's id in a key pattern: staging jobs are made at run time. */
const ANY_JOB = '*';

/**
 * The input stager: it reads a job's manifest, reads the pinned versions of the images, uploads
 * and other jobs' outputs (predictions) it names and the algorithm's model, and writes their
 * copies (in parts when large) into the job's folder; nothing else.
 */
export const inputStagerContainer: ContainerDeployment = {
  container: 'jobs/input-stager',
  permissions: {
    imagingObjects: [
      { prefix: jobManifestKey(ANY_JOB), actions: ['s3:GetObject'] },
      { prefix: IMAGES_PREFIX, actions: ['s3:GetObject', 's3:GetObjectVersion'] },
      { prefix: UPLOADS_PREFIX, actions: ['s3:GetObject', 's3:GetObjectVersion'] },
      { prefix: jobOutputsPrefix(ANY_JOB), actions: ['s3:GetObject', 's3:GetObjectVersion'] },
      { prefix: jobInputsPrefix(ANY_JOB), actions: ['s3:PutObject', 's3:AbortMultipartUpload'] },
      // The algorithm's model, copied beside the inputs.
      { prefix: modelObjectKey('*', '*'), actions: ['s3:GetObject'] },
      { prefix: jobModelKey(ANY_JOB), actions: ['s3:PutObject', 's3:AbortMultipartUpload'] },
    ],
    objectEncryption: OBJECT_ENCRYPTION,
  },
  settings: [INPUT_COPIES],
};
