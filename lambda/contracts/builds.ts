import { settingsGroup, text, wholeNumber } from './settings';

/**
 * Algorithm builds: an editor pushes a build context (a `.zip` or `.tar.gz` with a Dockerfile),
 * the build pipeline builds it into the algorithm repository with the job runner layered on, and
 * a checked image becomes the algorithm's active version. What deploy code (`lib/builds/`), the
 * handlers (`lambda/builds/`), the builder (`containers/builds/builder/`) and local mode share is
 * written here once.
 */

/**
 * A build's states: `Pending` until its context upload completes, `Queued` until the pipeline
 * runs it, `Building` in CodeBuild, `Checking` while the image is checked and registered, then
 * `Succeeded` (with the version it became), `Failed` (with the reason) or `Cancelled`. Terminal
 * states never change again.
 */
export const BUILD_STATES = [
  'Pending',
  'Queued',
  'Building',
  'Checking',
  'Succeeded',
  'Failed',
  'Cancelled',
] as const;
export type BuildState = (typeof BUILD_STATES)[number];
export const TERMINAL_BUILD_STATES: readonly BuildState[] = ['Succeeded', 'Failed', 'Cancelled'];

/** The archive formats a build context may come in, by the uploaded file's name. */
export const BUILD_CONTEXT_FORMATS = ['.zip', '.tar.gz', '.tgz'] as const;

/**
 * The one pipeline that runs every build (CodePipeline V2, PARALLEL), its actions by name, and
 * the pipeline-level variables each execution is started with.
 */
export const BUILD_PIPELINE = {
  /** S3 source, overridden per execution with the build's source object (S3_OBJECT_KEY). */
  sourceAction: 'Context',
  /** CodeBuild: runs the builder. */
  buildAction: 'Build',
  /** The namespace of the build action's exported variables (`#{Build.IMAGE}`). */
  buildNamespace: 'Build',
  /** Lambda invoke: the image checks, then the new version made active. */
  registerAction: 'Register',
  variables: {
    algorithmId: 'ALGORITHM_ID',
    buildId: 'BUILD_ID',
    /** The Dockerfile's path inside the context. */
    dockerfile: 'DOCKERFILE',
  },
} as const;

/** The variable the build action exports: the runnable image by digest (`<repository>@sha256:...`). */
export const BUILD_IMAGE_VARIABLE = 'IMAGE';

/**
 * What the pipeline's source object holds: one entry, the author's archive as uploaded, named
 * for its format. CodeBuild can only take a zip from a pipeline; the builder reads the archive
 * inside it with the platform's own archive checks.
 */
export const BUILD_SOURCE_ENTRY = { zip: 'context.zip', tarGz: 'context.tar.gz' } as const;

/**
 * Tags in the algorithm repository: a build's image until it is checked, then its version's; a
 * retired version's image is tagged `retired` and loses its `version` tag, so that the
 * repository's lifecycle policy may expire it (a `version` tag keeps an image for good).
 */
export const BUILD_IMAGE_TAGS = {
  candidate: (buildId: string) => `build-${buildId}`,
  version: (versionId: string) => `version-${versionId}`,
  retired: (versionId: string) => `retired-${versionId}`,
} as const;

/** The message on the build queue: a build whose context upload completed. */
export interface BuildMessage {
  readonly algorithmId: string;
  readonly buildId: string;
}

/** The build queue: one message per build whose context upload completed. */
export const BUILD_QUEUE = {
  maxReceiveCount: 3,
  /** Long enough to wrap a context of `builds.contextBytes` and start the pipeline. */
  visibilityTimeoutSeconds: 900,
} as const;

/** Where handlers that queue builds send their messages. */
export const BUILD_QUEUE_URL = settingsGroup('the build queue', { buildQueueUrl: text });

/** The pipeline that runs builds, by name, and the log group of its CodeBuild project. */
export const BUILD_PIPELINE_NAME = settingsGroup('the build pipeline', {
  buildPipelineName: text,
  buildLogGroup: text,
});

/** The repository that builds push to, as `<account>.dkr.ecr.<region>.amazonaws.com/<name>`. */
export const ALGORITHM_REPOSITORY = settingsGroup('the algorithm repository', {
  algorithmRepositoryUri: text,
});

/**
 * What a build may be and do, from the configuration (`builds.*`): the context's bytes as
 * uploaded, its entries and bytes once extracted, builds active at once per user, and minutes a
 * build may run.
 */
export const BUILD_LIMITS = settingsGroup('the build limits', {
  buildContextBytes: wholeNumber,
  buildContextEntries: wholeNumber,
  buildContextExtractedBytes: wholeNumber,
  buildsPerUser: wholeNumber,
  buildTimeoutMinutes: wholeNumber,
});

/**
 * How the builder reports: each phase's start as `BUILD_PHASE <name>`, then one last line,
 * `BUILD_RESULT <json>` on success or `BUILD_FAILED <reason>` on failure. The log is read for
 * these lines (the build's status, its reason, the bench's phase times).
 */
export const BUILDER_REPORT = {
  phase: 'BUILD_PHASE',
  result: 'BUILD_RESULT',
  failed: 'BUILD_FAILED',
} as const;

export const BUILD_PHASES = ['extract', 'build', 'runner-layer', 'push'] as const;
export type BuildPhase = (typeof BUILD_PHASES)[number];

/** The builder's `BUILD_RESULT`: the runnable image by digest, its size, and each phase's seconds. */
export interface BuildResult {
  readonly image: string;
  readonly digest: string;
  readonly sizeBytes: number;
  readonly phaseSeconds: Readonly<Partial<Record<BuildPhase, number>>>;
}

/**
 * The builder's environment, as CodeBuild (and local mode) set it: the archive's path, the
 * Dockerfile inside it, where to push, and the tag.
 */
export const BUILDER_ENVIRONMENT = {
  contextArchive: 'CONTEXT_ARCHIVE',
  dockerfile: 'DOCKERFILE',
  repository: 'IMAGE_REPOSITORY',
  tag: 'IMAGE_TAG',
  /** `docker` on CodeBuild; podman or docker locally. */
  engine: 'CONTAINER_ENGINE',
  /** `true` where base images cannot be pulled (local mode). */
  pullNever: 'PULL_NEVER',
  /** `true` to push to the repository (CodeBuild); local mode keeps the image in its engine. */
  push: 'PUSH',
} as const;

/**
 * The part of CodeBuild's `Build State Change` event that the platform reads: which build of
 * the platform it is (the pipeline's variables reach CodeBuild as environment variables), its
 * status, and its log stream. Local mode sends the same.
 */
export interface BuildStateChangeDetail {
  readonly 'build-status': 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'STOPPED' | 'TIMED_OUT' | 'FAULT';
  readonly 'project-name': string;
  readonly 'build-id': string;
  readonly 'additional-information': {
    readonly environment?: {
      readonly 'environment-variables'?: readonly { name: string; value: string; type?: string }[];
    };
    readonly logs?: { readonly 'group-name'?: string; readonly 'stream-name'?: string };
    readonly 'build-start-time'?: string;
  };
}
