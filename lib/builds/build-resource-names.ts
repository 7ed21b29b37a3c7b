import { PlatformConfig } from '../config/platform-config';

/**
 * Names of what runs algorithm builds. The data stack creates the repository, the api stack the
 * pipeline and its project under these names; handlers reach them by name, so that the stacks
 * reference each other only one way.
 */
export interface BuildResourceNames {
  /** The CodePipeline V2 pipeline that runs every build. */
  readonly pipeline: string;
  /** The CodeBuild project of its build action. */
  readonly project: string;
  /** Where the project logs each build, one stream per build. */
  readonly logGroup: string;
  /**
   * The ECR repository that builds push to, before the data stack adds the id of its creation (a
   * retained repository must not block a redeploy); ECR takes lower-case names only.
   */
  readonly repository: string;
}

export function buildResourceNames(config: Pick<PlatformConfig, 'name'>): BuildResourceNames {
  return {
    pipeline: `${config.name}-algorithm-builds`,
    project: `${config.name}-algorithm-builds`,
    logGroup: `/${config.name}/algorithm-builds`,
    repository: `${config.name.toLowerCase()}/algorithms`,
  };
}
