import { AccessContext, RequiredAccess } from './required-access';

type Body = Record<string, unknown>;

/**
 * What AWS Batch authorizes for a REST request (`POST /v1/submitjob`): SubmitJob on the job queue
 * and on the job definition's revision (a name alone runs its latest revision), TerminateJob on
 * the job, job definitions by their name; registering a definition that names roles passes them
 * (iam:PassRole, to batch.amazonaws.com) and tagging it needs batch:TagResource.
 */
export function batchRequiredAccess(
  context: AccessContext,
  path: string,
  body: Body,
  latestRevision: (definitionName: string) => number | undefined,
): RequiredAccess[] {
  const arn = (resource: string) => `arn:aws:batch:${context.region}:${context.account}:${resource}`;
  const named = (kind: string, value: unknown) => {
    const text = String(value ?? '');
    return text.startsWith('arn:') ? text : arn(`${kind}/${text}`);
  };
  const operation = path.replace(/^\/v1\//, '').toLowerCase();
  switch (operation) {
    case 'submitjob': {
      let definition = named('job-definition', body.jobDefinition);
      if (!/:\d+$/.test(definition)) {
        const name = definition.slice(definition.indexOf('job-definition/') + 'job-definition/'.length);
        definition = `${definition}:${latestRevision(name) ?? 1}`;
      }
      return [
        { action: 'batch:SubmitJob', resource: named('job-queue', body.jobQueue) },
        { action: 'batch:SubmitJob', resource: definition },
      ];
    }
    case 'terminatejob':
      return [{ action: 'batch:TerminateJob', resource: arn(`job/${String(body.jobId ?? '')}`) }];
    case 'describejobs':
      return [{ action: 'batch:DescribeJobs', resource: '*' }];
    case 'listjobs':
      return [{ action: 'batch:ListJobs', resource: '*' }];
    case 'updatejobqueue':
      return [{ action: 'batch:UpdateJobQueue', resource: named('job-queue', body.jobQueue) }];
    case 'deregisterjobdefinition':
      return [
        { action: 'batch:DeregisterJobDefinition', resource: named('job-definition', body.jobDefinition) },
      ];
    case 'registerjobdefinition': {
      const name = String(body.jobDefinitionName ?? '');
      const definition = arn(`job-definition/${name}`);
      // Tags go on the revision being made.
      const revision = `${definition}:${(latestRevision(name) ?? 0) + 1}`;
      const container = (body.containerProperties ?? {}) as Body;
      const roles = [container.jobRoleArn, container.executionRoleArn].filter(
        (role): role is string => typeof role === 'string',
      );
      const tags = body.tags && Object.keys(body.tags as Body).length > 0;
      return [
        { action: 'batch:RegisterJobDefinition', resource: definition },
        ...(tags ? [{ action: 'batch:TagResource', resource: revision }] : []),
        ...roles.map((role) => ({
          action: 'iam:PassRole',
          resource: role,
          context: { 'iam:PassedToService': 'batch.amazonaws.com' },
        })),
      ];
    }
    default:
      return [{ action: `batch:${operation}`, resource: '*' }];
  }
}
