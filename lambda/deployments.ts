import { ApiOperation, BackgroundFunction } from './contracts/handler-deployment';
import { operation as activateAlgorithmModel } from './algorithms/activate-algorithm-model/operation';
import { operation as createAlgorithmModel } from './algorithms/create-algorithm-model/operation';
import { operation as getAlgorithmModel } from './algorithms/get-algorithm-model/operation';
import { operation as listAlgorithmModels } from './algorithms/list-algorithm-models/operation';
import { backgroundFunction as validateAlgorithmModels } from './algorithms/validate-algorithm-models/function';
import { operation as createAlgorithmVersion } from './algorithms/create-algorithm-version/operation';
import { operation as createAlgorithm } from './algorithms/create-algorithm/operation';
import { operation as getAlgorithm } from './algorithms/get-algorithm/operation';
import { operation as listAlgorithms } from './algorithms/list-algorithms/operation';
import { operation as setAlgorithmUsers } from './algorithms/set-algorithm-users/operation';
import { operation as cancelBuild } from './builds/cancel-build/operation';
import { operation as createBuild } from './builds/create-build/operation';
import { operation as getBuild } from './builds/get-build/operation';
import { operation as listBuilds } from './builds/list-builds/operation';
import { backgroundFunction as registerBuild } from './builds/register-build/function';
import { backgroundFunction as startBuild } from './builds/start-build/function';
import { backgroundFunction as trackBuild } from './builds/track-build/function';
import { operation as getHealth } from './api/get-health/operation';
import { operation as getOpenApiDocument } from './api/get-open-api-document/operation';
import { backgroundFunction as urlSigningKeyPair } from './delivery/url-signing-key-pair/function';
import { backgroundFunction as convertImage } from './images/convert-image/function';
import { operation as createImage } from './images/create-image/operation';
import { backgroundFunction as failConverterJob } from './images/fail-converter-job/function';
import { backgroundFunction as failUnconvertedImage } from './images/fail-unconverted-image/function';
import { operation as getImage } from './images/get-image/operation';
import { backgroundFunction as batchJobStateChange } from './jobs/batch-job-state-change/function';
import { backgroundFunction as reconcileJobSlots } from './jobs/reconcile-job-slots/function';
import { backgroundFunction as watchRunnableJobs } from './jobs/watch-runnable-jobs/function';
import { operation as cancelJob } from './jobs/cancel-job/operation';
import { operation as getJobLogs } from './jobs/get-job-logs/operation';
import { operation as getJob } from './jobs/get-job/operation';
import { operation as listJobs } from './jobs/list-jobs/operation';
import { operation as submitJob } from './jobs/submit-job/operation';
import { operation as createSession } from './sessions/create-session/operation';
import { operation as deleteSession } from './sessions/delete-session/operation';
import { operation as getSession } from './sessions/get-session/operation';
import { operation as keepSessionAlive } from './sessions/keep-session-alive/operation';
import { operation as listViewerRegions } from './sessions/list-viewer-regions/operation';
import { operation as reportViewerState } from './sessions/report-viewer-state/operation';
import { backgroundFunction as sessionSigningKey } from './sessions/session-signing-key/function';
import { operation as abortUpload } from './uploads/abort-upload/operation';
import { operation as completeUpload } from './uploads/complete-upload/operation';
import { operation as createUpload } from './uploads/create-upload/operation';
import { operation as getUpload } from './uploads/get-upload/operation';
import { operation as signUploadParts } from './uploads/sign-upload-parts/operation';
import { backgroundFunction as uploadSweeper } from './uploads/upload-sweeper/function';

/**
 * Every handler of the platform, by the deployment written beside it: the REST API's operations
 * in the order of its OpenAPI document, then the functions their triggers invoke. The constructs
 * and local mode deploy what is listed here; a test checks that it lists every handler folder.
 */
export const API_OPERATIONS: readonly ApiOperation[] = [
  getHealth,
  getOpenApiDocument,
  createUpload,
  getUpload,
  abortUpload,
  signUploadParts,
  completeUpload,
  createImage,
  getImage,
  createAlgorithm,
  listAlgorithms,
  getAlgorithm,
  setAlgorithmUsers,
  createAlgorithmVersion,
  createAlgorithmModel,
  listAlgorithmModels,
  getAlgorithmModel,
  activateAlgorithmModel,
  createBuild,
  listBuilds,
  getBuild,
  cancelBuild,
  submitJob,
  listJobs,
  getJob,
  cancelJob,
  getJobLogs,
  createSession,
  getSession,
  keepSessionAlive,
  deleteSession,
  listViewerRegions,
  reportViewerState,
];

export const BACKGROUND_FUNCTIONS: readonly BackgroundFunction[] = [
  uploadSweeper,
  convertImage,
  failUnconvertedImage,
  failConverterJob,
  validateAlgorithmModels,
  startBuild,
  trackBuild,
  registerBuild,
  batchJobStateChange,
  reconcileJobSlots,
  watchRunnableJobs,
  urlSigningKeyPair,
  sessionSigningKey,
];
