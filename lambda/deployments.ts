import { ApiOperation, BackgroundFunction } from './contracts/handler-deployment';
import { createAlgorithmVersionOperation } from './algorithms/create-algorithm-version/operation';
import { createAlgorithmOperation } from './algorithms/create-algorithm/operation';
import { getAlgorithmOperation } from './algorithms/get-algorithm/operation';
import { listAlgorithmsOperation } from './algorithms/list-algorithms/operation';
import { setAlgorithmUsersOperation } from './algorithms/set-algorithm-users/operation';
import { getHealthOperation } from './api/get-health/operation';
import { getOpenApiDocumentOperation } from './api/get-open-api-document/operation';
import { urlSigningKeyPairFunction } from './delivery/url-signing-key-pair/function';
import { convertImageFunction } from './images/convert-image/function';
import { createImageOperation } from './images/create-image/operation';
import { failConverterJobFunction } from './images/fail-converter-job/function';
import { failUnconvertedImageFunction } from './images/fail-unconverted-image/function';
import { getImageOperation } from './images/get-image/operation';
import { batchJobStateChangeFunction } from './jobs/batch-job-state-change/function';
import { cancelJobOperation } from './jobs/cancel-job/operation';
import { getJobLogsOperation } from './jobs/get-job-logs/operation';
import { getJobOperation } from './jobs/get-job/operation';
import { listJobsOperation } from './jobs/list-jobs/operation';
import { submitJobOperation } from './jobs/submit-job/operation';
import { abortUploadOperation } from './uploads/abort-upload/operation';
import { completeUploadOperation } from './uploads/complete-upload/operation';
import { createUploadOperation } from './uploads/create-upload/operation';
import { getUploadOperation } from './uploads/get-upload/operation';
import { signUploadPartsOperation } from './uploads/sign-upload-parts/operation';
import { uploadSweeperFunction } from './uploads/upload-sweeper/function';

/**
 * Every handler of the platform, by the deployment written beside it: the REST API's operations
 * in the order of its OpenAPI document, then the functions their triggers invoke. The constructs
 * and local mode deploy what is listed here; a test checks that it lists every handler folder.
 */
export const API_OPERATIONS: readonly ApiOperation[] = [
  getHealthOperation,
  getOpenApiDocumentOperation,
  createUploadOperation,
  getUploadOperation,
  abortUploadOperation,
  signUploadPartsOperation,
  completeUploadOperation,
  createImageOperation,
  getImageOperation,
  createAlgorithmOperation,
  listAlgorithmsOperation,
  getAlgorithmOperation,
  setAlgorithmUsersOperation,
  createAlgorithmVersionOperation,
  submitJobOperation,
  listJobsOperation,
  getJobOperation,
  cancelJobOperation,
  getJobLogsOperation,
];

export const BACKGROUND_FUNCTIONS: readonly BackgroundFunction[] = [
  uploadSweeperFunction,
  convertImageFunction,
  failUnconvertedImageFunction,
  failConverterJobFunction,
  batchJobStateChangeFunction,
  urlSigningKeyPairFunction,
];
