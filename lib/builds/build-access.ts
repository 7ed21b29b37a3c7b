import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledgeWildcard } from '../core/acknowledgements';
import { BuildResourceNames } from './build-resource-names';

/**
 * What handlers may do with the build pipeline, its CodeBuild project, its log group and the
 * algorithm repository, which the stacks create under the names of `buildResourceNames`.
 */
export class BuildAccess {
  readonly pipelineArn: string;
  readonly projectArn: string;
  readonly repositoryArn: string;
  /** `<account>.dkr.ecr.<region>.amazonaws.com/<repository>`. */
  readonly repositoryUri: string;
  private readonly stack: Stack;

  /**
   * @param repositoryName the algorithm repository's name, as the data stack publishes it: it
   * carries the id of that stack's creation (see `nameUniqueToStack`)
   * @param logGroupName the build log group's name, which carries the id of the api stack's
   * creation, the stack that holds it
   */
  constructor(
    scope: Construct,
    readonly names: BuildResourceNames,
    readonly repositoryName: string,
    readonly logGroupName: string,
  ) {
    this.stack = Stack.of(scope);
    this.pipelineArn = this.stack.formatArn({ service: 'codepipeline', resource: names.pipeline });
    this.projectArn = this.stack.formatArn({
      service: 'codebuild',
      resource: 'project',
      resourceName: names.project,
    });
    this.repositoryArn = this.stack.formatArn({
      service: 'ecr',
      resource: 'repository',
      resourceName: repositoryName,
    });
    this.repositoryUri = `${this.stack.account}.dkr.ecr.${this.stack.region}.${this.stack.urlSuffix}/${repositoryName}`;
  }

  /** Starts executions of the pipeline, and, with `stop`, stops them and their CodeBuild builds. */
  grantRun(grantee: iam.IGrantable, uses: readonly ('start' | 'stop')[]): iam.Grant {
    const grants: iam.Grant[] = [];
    if (uses.includes('start')) {
      grants.push(
        iam.Grant.addToPrincipal({
          grantee,
          actions: ['codepipeline:StartPipelineExecution'],
          resourceArns: [this.pipelineArn],
        }),
      );
    }
    if (uses.includes('stop')) {
      grants.push(
        iam.Grant.addToPrincipal({
          grantee,
          actions: ['codepipeline:StopPipelineExecution'],
          resourceArns: [this.pipelineArn],
        }),
        iam.Grant.addToPrincipal({
          grantee,
          actions: ['codebuild:StopBuild'],
          resourceArns: [this.projectArn],
        }),
      );
    }
    return grants.reduce((all, grant) => all.combine(grant), iam.Grant.drop(grantee, 'nothing'));
  }

  /** Reports a pipeline job's result: CodePipeline's job actions take no resource. */
  grantReportPipelineJobs(grantee: iam.IGrantable): iam.Grant {
    acknowledgeWildcard(
      grantee,
      '*',
      'codepipeline:PutJobSuccessResult and PutJobFailureResult support no resource-level permission; a job id is only valid for the action that invoked the function.',
    );
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['codepipeline:PutJobSuccessResult', 'codepipeline:PutJobFailureResult'],
      resourceArns: ['*'],
    });
  }

  /**
   * `tag`: reads an image's manifest and puts it under a new tag (a checked build's version);
   * `remove`: deletes tags and untagged images (a refused or ended build's candidate).
   */
  grantManageImages(grantee: iam.IGrantable, uses: readonly ('tag' | 'remove')[]): iam.Grant {
    const actions = [
      ...(uses.includes('tag') ? ['ecr:BatchGetImage', 'ecr:PutImage'] : []),
      ...(uses.includes('remove') ? ['ecr:BatchDeleteImage'] : []),
    ];
    return iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [this.repositoryArn] });
  }

  /** logs:GetLogEvents on the streams of the build log group. */
  grantReadLogs(grantee: iam.IGrantable): iam.Grant {
    const streams = this.stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: `${this.logGroupName}:log-stream:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    acknowledgeWildcard(
      grantee,
      streams,
      "CodeBuild names each build's log stream at run time; the group holds only build logs.",
    );
    return iam.Grant.addToPrincipal({ grantee, actions: ['logs:GetLogEvents'], resourceArns: [streams] });
  }
}
