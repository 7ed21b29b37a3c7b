import { badRequest } from '../api/api-error';
import { BUILD_CONTEXT_FORMATS, BuildResult, BuildState, TERMINAL_BUILD_STATES } from '../contracts/builds';

/**
 * A build as stored in the builds table. From its creation until it ends it holds one of its
 * creator's build slots; the one write that ends it gives the slot back.
 */
export interface BuildRecord {
  readonly algorithmId: string;
  readonly id: string;
  readonly createdBy: string;
  readonly state: BuildState;
  /** What the state means now: why it failed, what it waits for. */
  readonly statusDetail: string;
  /** The upload of the build's context, which belongs to the build alone. */
  readonly uploadId: string;
  readonly filename: string;
  readonly format: BuildContextFormat;
  /** The Dockerfile's path inside the context. */
  readonly dockerfile: string;
  readonly createdAt: string;
  readonly queuedAt?: string;
  readonly startedAt?: string;
  readonly endedAt?: string;
  readonly pipelineExecutionId?: string;
  readonly codebuildId?: string;
  readonly logStream?: string;
  /** What the builder reported: its image by digest, size and phase times. */
  readonly result?: BuildResult;
  /** The image that was checked and registered, as the pipeline named it. */
  readonly image?: string;
  /** The version the build became, once Succeeded. */
  readonly versionId?: string;
  readonly updatedAt: string;
}

export type BuildContextFormat = (typeof BUILD_CONTEXT_FORMATS)[number];

export const DEFAULT_DOCKERFILE = 'Dockerfile';

export function isTerminal(state: BuildState): boolean {
  return TERMINAL_BUILD_STATES.includes(state);
}

/** The format a context's file name says it is in, or a refusal naming the formats taken. */
export function contextFormat(filename: string): BuildContextFormat {
  const format = BUILD_CONTEXT_FORMATS.find((suffix) => filename.toLowerCase().endsWith(suffix));
  if (!format) {
    throw badRequest(
      `body.filename "${filename}" is not a build context: it must end with ${BUILD_CONTEXT_FORMATS.join(', ')}`,
    );
  }
  return format;
}

/**
 * A Dockerfile path inside the context: relative, in forward slashes, without `.` or `..`
 * segments, so that the build cannot read outside its context.
 */
export function checkDockerfilePath(dockerfile: string): string {
  const segments = dockerfile.split('/');
  if (
    dockerfile.startsWith('/') ||
    dockerfile.includes('\\') ||
    segments.some((segment) => segment === '' || segment === '.' || segment === '..')
  ) {
    throw badRequest(
      `body.dockerfile "${dockerfile}" must be a relative path inside the context, without "." or ".." segments`,
    );
  }
  return dockerfile;
}

/** What an editor sees of a build; `logTail` when it was read. */
export function buildView(build: BuildRecord, logTail?: readonly string[]) {
  const image = build.image ?? build.result?.image;
  const digest =
    build.result?.digest ?? (image?.includes('@') ? image.slice(image.indexOf('@') + 1) : undefined);
  return {
    id: build.id,
    algorithmId: build.algorithmId,
    status: build.state,
    statusDetail: build.statusDetail,
    uploadId: build.uploadId,
    filename: build.filename,
    dockerfile: build.dockerfile,
    createdAt: build.createdAt,
    ...(build.queuedAt && { queuedAt: build.queuedAt }),
    ...(build.startedAt && { startedAt: build.startedAt }),
    ...(build.endedAt && { endedAt: build.endedAt }),
    ...(image && { image }),
    ...(digest && { digest }),
    ...(build.result && { sizeBytes: build.result.sizeBytes, phaseSeconds: build.result.phaseSeconds }),
    ...(build.versionId && { versionId: build.versionId }),
    ...(logTail && { logTail }),
    updatedAt: build.updatedAt,
  };
}
