import type { Decision } from './policy-evaluator';
import type { LocalIam } from './local-iam';
import { LOCAL_ACCOUNT } from './template-values';

/** What pulling an image from ECR asks of the role that pulls it (the Amazon ECR User Guide's pull policy). */
const PULL_ACTIONS = ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'];

/**
 * The ECR repository an image reference names: `<account>.dkr.ecr.<region>.amazonaws.com/<name>`
 * by its ARN; an image of this machine (`localhost/<name>`, or a bare name) as the repository of
 * that name in local mode's account, which it would be pushed to on AWS.
 */
export function repositoryArn(image: string, region: string): string {
  const withoutDigest = image.split('@', 1)[0];
  const ecr = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/(.+?)(?::[^/:]+)?$/.exec(
    withoutDigest,
  );
  if (ecr) return `arn:aws:ecr:${ecr[2]}:${ecr[1]}:repository/${ecr[3]}`;
  const [first, ...rest] = withoutDigest.split('/');
  const name = (rest.length > 0 && /[.:]|^localhost$/.test(first) ? rest.join('/') : withoutDigest).replace(
    /:[^/:]+$/,
    '',
  );
  return `arn:aws:ecr:${region}:${LOCAL_ACCOUNT}:repository/${name}`;
}

/**
 * Whether `executionRoleArn` may pull `image`, as the ECS agent pulls a job's image with the job
 * definition's execution role before its container starts: an authorization token, then the
 * image's manifest and layers from its repository.
 */
export async function decideImagePull(
  iam: LocalIam,
  executionRoleArn: string,
  image: string,
  region: string,
): Promise<Decision> {
  const roleName = executionRoleArn.slice(executionRoleArn.indexOf(':role/') + ':role/'.length);
  const principal = {
    kind: 'role' as const,
    roleArn: executionRoleArn,
    sessionArn: `arn:aws:sts::${LOCAL_ACCOUNT}:assumed-role/${roleName}/ecs-agent`,
  };
  const repository = repositoryArn(image, region);
  const requests = [
    { action: 'ecr:GetAuthorizationToken', resource: '*' },
    ...PULL_ACTIONS.map((action) => ({ action, resource: repository })),
  ];
  for (const request of requests) {
    const decision = await iam.decide(principal, request);
    if (!decision.allowed) return decision;
  }
  return { allowed: true };
}
