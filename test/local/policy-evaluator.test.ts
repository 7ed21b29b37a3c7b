import { LocalPrincipal, PolicyEvaluator } from '../../local/iam/policy-evaluator';
import type { PlatformAccess, PolicyDocument } from '../../local/iam/platform-access';

const ROLE = 'arn:aws:iam::000000000000:role/reader';
const principal: LocalPrincipal = {
  kind: 'role',
  roleArn: ROLE,
  sessionArn: 'arn:aws:sts::000000000000:assumed-role/reader/local',
};
const BUCKET = 'arn:aws:s3:::imaging';

/** Uploads readable, one of them and a family of keys explicitly not; images readable by pattern. */
const policy: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: 's3:GetObject', Resource: `${BUCKET}/uploads/*` },
    {
      Effect: 'Deny',
      Action: 's3:GetObject',
      Resource: [`${BUCKET}/uploads/secret`, `${BUCKET}/uploads/x?z`],
    },
    { Effect: 'Allow', Action: 's3:GetObject', Resource: `${BUCKET}/images/a?c*` },
  ],
};

/** The evaluator over one role's policy; the bucket has no policy of its own. */
function evaluator(): PolicyEvaluator {
  const access = {
    role: (arn: string) =>
      arn === ROLE ? { name: 'reader', arn, policies: [{ name: 'p', document: policy }] } : undefined,
    resourcePolicies: new Map(),
  } as unknown as PlatformAccess;
  return new PolicyEvaluator(access);
}

const read = (key: string) => ({ action: 's3:GetObject', resource: `${BUCKET}/${key}` });

describe('local IAM decisions on objects', () => {
  test('an allowed key stands for keys matching the same policy resources, never for a key a deny or a pattern tells apart', async () => {
    const shared = evaluator();
    expect(await shared.decide(principal, read('uploads/a'))).toEqual({ allowed: true });
    expect(await shared.decide(principal, read('uploads/secret'))).toEqual({
      allowed: false,
      message: expect.stringContaining(`on resource: ${BUCKET}/uploads/secret with an explicit deny`),
    });
    expect(await shared.decide(principal, read('uploads/xyz'))).toMatchObject({ allowed: false });
    expect(await shared.decide(principal, read('uploads/xyyz'))).toEqual({ allowed: true });
    expect(await shared.decide(principal, read('images/abc.mha'))).toEqual({ allowed: true });
    expect(await shared.decide(principal, read('images/abbc.mha'))).toEqual({
      allowed: false,
      message: expect.stringContaining(
        `on resource: ${BUCKET}/images/abbc.mha because no identity-based policy`,
      ),
    });
  });

  test('decisions kept across keys are those a simulation of each key alone gives', async () => {
    const shared = evaluator();
    const parts = ['uploads/', 'images/', 'a', 'b', 'c', 'x', 'y', 'z', 'secret', '/', '.', '*'];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % parts.length;
    const keys = Array.from({ length: 150 }, () =>
      Array.from({ length: 1 + (next() % 5) }, () => parts[next()]).join(''),
    );
    for (const key of ['uploads/a', 'uploads/secret', 'uploads/xaz', 'images/abc', ...keys]) {
      const alone = await evaluator().decide(principal, read(key));
      expect({ key, decision: await shared.decide(principal, read(key)) }).toEqual({ key, decision: alone });
    }
  });
});
