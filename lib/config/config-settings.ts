import type { PlatformSettings } from '../../lambda/contracts/handler-environment';
import { PlatformConfig } from './platform-config';
import { viewerEndpointParameter } from '../../lambda/contracts/viewer-host';
import { businessMetricNamespace } from '../../lambda/contracts/business-metrics';

/** The settings that come from the configuration alone, where deployed and local alike. */
export type ConfigSettings = Pick<
  PlatformSettings,
  | 'uploadPartBytes'
  | 'copyPartBytes'
  | 'uploadQuotaUnverifiedBytes'
  | 'uploadQuotaVerifiedBytes'
  | 'uploadPartUrlSeconds'
  | 'incompleteUploadDays'
  | 'uploadsPerImage'
  | 'activeJobsPerUser'
  | 'activeJobsPerAlgorithm'
  | 'activeJobsTotal'
  | 'outputFilesPerImageFolder'
  | 'outputFiles'
  | 'outputBytes'
  | 'writableRootBytes'
  | 'modelBytes'
  | 'modelEntries'
  | 'modelExtractedBytes'
  | 'buildContextBytes'
  | 'buildContextEntries'
  | 'buildContextExtractedBytes'
  | 'buildsPerUser'
  | 'buildTimeoutMinutes'
  | 'lambdaMaxSetBytes'
  | 'signedUrlSeconds'
  | 'imageCriticalFindings'
  | 'webOrigins'
  | 'viewerOrigin'
  | 'viewerRegions'
  | 'viewerEndpointParameterName'
  | 'viewerFleetName'
  | 'viewerSessionsPerUser'
  | 'viewerSessionsPerRegion'
  | 'viewerSessionMaxSeconds'
  | 'businessMetricNamespace'
>;

/** How long a presigned part URL lasts: an hour per part is ample at any speed that finishes a 32 MiB part. */
const PART_URL_SECONDS = 3600;

export function configSettings(config: PlatformConfig): ConfigSettings {
  return {
    uploadPartBytes: config.limits.uploadPartBytes,
    copyPartBytes: config.limits.copyPartBytes,
    uploadQuotaUnverifiedBytes: config.limits.uploadBytesUnverifiedUser,
    uploadQuotaVerifiedBytes: config.limits.uploadBytesVerifiedUser,
    uploadPartUrlSeconds: PART_URL_SECONDS,
    incompleteUploadDays: config.limits.incompleteUploadDays,
    uploadsPerImage: config.limits.uploadsPerImage,
    activeJobsPerUser: config.limits.activeJobsPerUser,
    activeJobsPerAlgorithm: config.limits.activeJobsPerAlgorithm,
    activeJobsTotal: config.limits.activeJobsTotal,
    outputFilesPerImageFolder: config.limits.outputFilesPerImageFolder,
    outputFiles: config.limits.outputFiles,
    outputBytes: config.limits.outputBytes,
    writableRootBytes: config.limits.writableRootBytes,
    modelBytes: config.limits.modelBytes,
    modelEntries: config.limits.modelEntries,
    modelExtractedBytes: config.limits.modelExtractedBytes,
    buildContextBytes: config.builds.contextBytes,
    buildContextEntries: config.builds.contextEntries,
    buildContextExtractedBytes: config.builds.contextExtractedBytes,
    buildsPerUser: config.builds.perUser,
    buildTimeoutMinutes: config.builds.timeoutMinutes,
    lambdaMaxSetBytes: config.conversion.lambdaMaxSetBytes,
    signedUrlSeconds: config.limits.signedUrlSeconds,
    imageCriticalFindings: config.compute.criticalFindings,
    webOrigins: config.webOrigins,
    viewerOrigin: config.viewer?.url ?? '',
    viewerRegions: config.viewerRegions,
    viewerEndpointParameterName: viewerEndpointParameter(config.name),
    viewerFleetName: config.name,
    viewerSessionsPerUser: config.limits.viewerSessionsPerUser,
    viewerSessionsPerRegion: config.limits.viewerSessionsPerRegion,
    viewerSessionMaxSeconds: config.limits.viewerSessionMaxSeconds,
    businessMetricNamespace: businessMetricNamespace(config.name),
  };
}
