import { BuildStateChangeDetail } from '../../lambda/contracts/builds';

/** A CodeBuild build as its `Build State Change` events name it. */
export interface CodeBuildBuild {
  /** `<project>:<uuid>`, as StopBuild takes it. */
  readonly id: string;
  readonly arn: string;
  readonly project: string;
  readonly startTime: Date;
  /** Its environment variables: the project's, with the pipeline's variables over them. */
  readonly environment: Readonly<Record<string, string>>;
  readonly logs: { readonly group: string; readonly stream: string };
}

/** The detail of CodeBuild's `Build State Change` event for `build` in `status`. */
export function buildStateChange(
  build: CodeBuildBuild,
  status: BuildStateChangeDetail['build-status'],
): BuildStateChangeDetail {
  return {
    'build-status': status,
    'project-name': build.project,
    'build-id': build.arn,
    'additional-information': {
      environment: {
        'environment-variables': Object.entries(build.environment).map(([name, value]) => ({
          name,
          value,
          type: 'PLAINTEXT',
        })),
      },
      logs: { 'group-name': build.logs.group, 'stream-name': build.logs.stream },
      'build-start-time': build.startTime.toISOString(),
    },
  };
}
