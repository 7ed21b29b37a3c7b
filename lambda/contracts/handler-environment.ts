import { IMAGING_BUCKET } from './bucket-layout';
import { BUSINESS_METRIC_NAMESPACE } from './business-metrics';
import { ALGORITHM_REPOSITORY, BUILD_LIMITS, BUILD_PIPELINE_NAME, BUILD_QUEUE_URL } from './builds';
import { CONVERSION_QUEUE_URL } from './conversion-queue';
import { CONVERSION_SCRATCH, CONVERTER_JOBS } from './converter-jobs';
import { BackgroundFunction, ContainerDeployment, HandlerDeployment } from './handler-deployment';
import { IMAGE_CHECKS, JOB_DEFINITIONS } from './job-definitions';
import { INPUT_COPIES, JOB_LIMITS, JOB_LOGS, JOB_QUEUES } from './job-queues';
import { OUTPUT_LIMITS, WRITABLE_ROOT } from './job-runner';
import { MODEL_LIMITS } from './model-limits';
import { PAGE_TOKENS } from './page-tokens';
import { SettingsGroup, SettingsShape, SettingValues } from './settings';
import { SIGNED_URLS } from './signed-urls';
import { TABLE_NAMES, TableName } from './tables';
import { IMAGE_UPLOAD_LIMITS, UPLOAD_ENDPOINT, UPLOAD_LIMITS } from './upload-limits';
import { WEB_ORIGINS } from './web-origins';
import { SESSION_SIGNING_KEY, VIEWER_SESSIONS } from './viewer-sessions';

/** Every settings group a handler or container may read. */
export const ALL_SETTINGS_GROUPS = [
  ...Object.values(TABLE_NAMES),
  IMAGING_BUCKET,
  UPLOAD_LIMITS,
  UPLOAD_ENDPOINT,
  IMAGE_UPLOAD_LIMITS,
  CONVERSION_QUEUE_URL,
  CONVERTER_JOBS,
  CONVERSION_SCRATCH,
  SIGNED_URLS,
  PAGE_TOKENS,
  JOB_LIMITS,
  JOB_QUEUES,
  INPUT_COPIES,
  JOB_LOGS,
  OUTPUT_LIMITS,
  WRITABLE_ROOT,
  MODEL_LIMITS,
  JOB_DEFINITIONS,
  IMAGE_CHECKS,
  WEB_ORIGINS,
  BUILD_QUEUE_URL,
  BUILD_PIPELINE_NAME,
  ALGORITHM_REPOSITORY,
  BUILD_LIMITS,
  VIEWER_SESSIONS,
  SESSION_SIGNING_KEY,
  BUSINESS_METRIC_NAMESPACE,
] as const;

type ShapeOf<G> = G extends SettingsGroup<infer S> ? S : never;
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void
  ? I
  : never;

/**
 * A value for every setting of the platform: what deploy code (from its resources and the
 * configuration) and local mode (from its embedded services) each provide, so that each can give
 * any handler its environment. The type lists every setting: neither side can leave one out.
 */
export type PlatformSettings = UnionToIntersection<
  SettingValues<ShapeOf<(typeof ALL_SETTINGS_GROUPS)[number]>>
>;

type Deployment = HandlerDeployment | ContainerDeployment;

/**
 * The settings groups of a handler's (or container's) environment: the names of what its
 * permissions let it touch, and the configuration it asks for. API operations also get the web
 * origins their answers allow; every one but a custom resource's gets the namespace of the
 * business metrics.
 */
export function environmentGroups(deployment: Deployment): SettingsGroup[] {
  const { permissions } = deployment;
  const tables = new Set([
    ...Object.keys(permissions.tables ?? {}),
    ...Object.keys(permissions.indexQueries ?? {}),
  ] as TableName[]);
  const groups: SettingsGroup[] = [...tables].map((table) => TABLE_NAMES[table]);
  if (permissions.imagingObjects?.length) groups.push(IMAGING_BUCKET);
  if (permissions.queuesConversions) groups.push(CONVERSION_QUEUE_URL);
  if (permissions.submitsConversions) groups.push(CONVERTER_JOBS);
  if (permissions.signsImageUrls) groups.push(SIGNED_URLS);
  if (permissions.signsPageTokens) groups.push(PAGE_TOKENS);
  if (permissions.signsSessionCredentials) groups.push(SESSION_SIGNING_KEY);
  if (permissions.submitsJobs) groups.push(JOB_QUEUES);
  if (permissions.activatesVersions) groups.push(JOB_DEFINITIONS, JOB_LOGS, IMAGE_CHECKS);
  if (permissions.readsJobLogs) groups.push(JOB_LOGS);
  if (permissions.watchesJobQueues) groups.push(JOB_QUEUES, CONVERTER_JOBS);
  if (permissions.queuesBuilds) groups.push(BUILD_QUEUE_URL);
  if (permissions.runsBuilds?.length || permissions.readsBuildLogs) groups.push(BUILD_PIPELINE_NAME);
  if (permissions.managesBuildImages?.length) groups.push(ALGORITHM_REPOSITORY);
  if ('operationId' in deployment) groups.push(WEB_ORIGINS);
  groups.push(...(deployment.settings ?? []));
  // A custom resource's function runs at deploy, publishes no metric and is given no settings.
  if (!('trigger' in deployment && (deployment as BackgroundFunction).trigger.kind === 'customResource')) {
    groups.push(BUSINESS_METRIC_NAMESPACE);
  }
  return [...new Set(groups)];
}

/** The variables of a handler's environment, with the values of `settings`. */
export function environmentVariables(
  deployment: Deployment,
  settings: PlatformSettings,
): Record<string, string> {
  const values = settings as unknown as SettingValues<SettingsShape>;
  return Object.assign({}, ...environmentGroups(deployment).map((group) => group.variables(values)));
}

/**
 * Checks a handler's environment when it starts (at cold start, before its first event): every
 * variable its deployment says it gets must be there and well-formed, or it fails naming them.
 */
export function parseEnvironment(deployment: Deployment, env = process.env): void {
  const problems: string[] = [];
  for (const group of environmentGroups(deployment)) {
    try {
      group.parse(env);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (problems.length > 0) {
    const name = 'handler' in deployment ? deployment.handler : deployment.container;
    throw new Error(`the environment of ${name} is incomplete: ${problems.join('; ')}`);
  }
}
