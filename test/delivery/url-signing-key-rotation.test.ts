import { Template } from 'aws-cdk-lib/assertions';
import { variableName } from '../../lambda/contracts/settings';
import { synthPlatform } from '../helpers/synth-platform';

type Resource = { Type: string; Properties?: Record<string, unknown>; DependsOn?: string[] };
type Templates = { data: Record<string, Resource>; api: string; outputs: Record<string, { Value: unknown }> };

/** The stacks of one configuration of the key generations, as `cdk synth` makes them. */
function synthesized(generation: number, retiredGeneration: number): Templates {
  const { platform } = synthPlatform({
    'platform.urlSigningKeyGeneration': String(generation),
    'platform.urlSigningKeyRetiredGeneration': String(retiredGeneration),
  });
  const data = Template.fromStack(platform.data).toJSON();
  return {
    data: data.Resources,
    outputs: data.Outputs,
    api: JSON.stringify(Template.fromStack(platform.api).toJSON()),
  };
}

const idsOf = (template: Templates, type: string) =>
  Object.keys(template.data)
    .filter((id) => template.data[id].Type === type)
    .sort();
const oneOf = (template: Templates, type: string): [string, Resource] => {
  const ids = idsOf(template, type);
  expect(ids).toHaveLength(1);
  return [ids[0], template.data[ids[0]]];
};
const publicKeyOf = (template: Templates, generation: number): [string, Resource] => {
  const [id] = idsOf(template, 'AWS::CloudFront::PublicKey').filter((i) =>
    i.startsWith(`UrlSigningKeyPairGeneration${generation}PublicKey`),
  );
  expect(id).toBeDefined();
  return [id, template.data[id]];
};
const keyPairOf = (template: Templates, generation: number): [string, Resource] => {
  const [id] = idsOf(template, 'Custom::UrlSigningKeyPair').filter((i) =>
    i.startsWith(`UrlSigningKeyPairGeneration${generation}`),
  );
  expect(id).toBeDefined();
  return [id, template.data[id]];
};
const keyGroupItems = (template: Templates) =>
  (oneOf(template, 'AWS::CloudFront::KeyGroup')[1].Properties!.KeyGroupConfig as { Items: unknown[] }).Items;

// The life of a rotation: generation 1; generation 2 signs while 1 is still trusted (the
// overlap); 1 retired; generation 3 signs while 2 is still trusted.
let first: Templates;
let overlap: Templates;
let retired: Templates;
let next: Templates;

beforeAll(() => {
  first = synthesized(1, 0);
  overlap = synthesized(2, 0);
  retired = synthesized(2, 1);
  next = synthesized(3, 1);
}, 240_000);

describe('rotating the URL signing key pair', () => {
  test('a new generation is new resources beside the old, whose logical ids and properties stay as they were', () => {
    // CloudFormation sends no Update to generation 1's resources: the custom resource mints
    // nothing, and the public key is not asked to change its encoded key, which CloudFront refuses.
    for (const type of ['Custom::UrlSigningKeyPair', 'AWS::CloudFront::PublicKey']) {
      for (const id of idsOf(first, type)) expect([id, overlap.data[id]]).toEqual([id, first.data[id]]);
    }
    const [keyPair1] = keyPairOf(first, 1);
    const [publicKey1, publicKeyResource1] = publicKeyOf(first, 1);
    const [keyPair2] = keyPairOf(overlap, 2);
    const [publicKey2, publicKeyResource2] = publicKeyOf(overlap, 2);
    expect(idsOf(overlap, 'Custom::UrlSigningKeyPair')).toEqual([keyPair1, keyPair2].sort());
    expect(idsOf(overlap, 'AWS::CloudFront::PublicKey')).toEqual([publicKey1, publicKey2].sort());
    // Two public keys exist at once: each needs its own caller reference and name.
    const config1 = publicKeyResource1.Properties!.PublicKeyConfig as Record<string, unknown>;
    const config2 = publicKeyResource2.Properties!.PublicKeyConfig as Record<string, unknown>;
    expect(config2.CallerReference).not.toEqual(config1.CallerReference);
    expect(config2.Name).not.toEqual(config1.Name);
    expect(config2.EncodedKey).toEqual({ 'Fn::GetAtt': [keyPair2, 'PublicKeyPem'] });
    expect(overlap.data[keyPair2].Properties).toMatchObject({ Generation: 2 });
  });

  test('the key group holds old and new during the overlap, then only the new, in a distribution that never changes', () => {
    expect(keyGroupItems(first)).toHaveLength(1);
    expect(keyGroupItems(overlap)).toHaveLength(2);
    expect(keyGroupItems(first)).toEqual([{ Ref: publicKeyOf(first, 1)[0] }]);
    expect(keyGroupItems(overlap)).toEqual([
      { Ref: publicKeyOf(overlap, 1)[0] },
      { Ref: publicKeyOf(overlap, 2)[0] },
    ]);
    expect(keyGroupItems(retired)).toEqual([{ Ref: publicKeyOf(retired, 2)[0] }]);
    expect(keyGroupItems(next)).toEqual([{ Ref: publicKeyOf(next, 2)[0] }, { Ref: publicKeyOf(next, 3)[0] }]);
    // Retiring generation 1 removes its resources (CloudFormation deletes them once the key group
    // no longer holds its key); generation 2's stay as they were made.
    expect(idsOf(retired, 'Custom::UrlSigningKeyPair')).toEqual([keyPairOf(overlap, 2)[0]]);
    expect(retired.data[publicKeyOf(overlap, 2)[0]]).toEqual(publicKeyOf(overlap, 2)[1]);
    // One key group, one distribution, the same in every template.
    const keyGroupId = oneOf(first, 'AWS::CloudFront::KeyGroup')[0];
    const distribution = oneOf(first, 'AWS::CloudFront::Distribution');
    for (const template of [overlap, retired, next]) {
      expect(oneOf(template, 'AWS::CloudFront::KeyGroup')[0]).toBe(keyGroupId);
      expect(oneOf(template, 'AWS::CloudFront::Distribution')).toEqual(distribution);
    }
  });

  test('the current-key secret names the signing generation, and changes last in its stack', () => {
    for (const [template, generation] of [
      [first, 1],
      [overlap, 2],
      [retired, 2],
      [next, 3],
    ] as const) {
      const [secretId, secret] = currentKeySecretOf(template);
      expect(JSON.stringify(secret.Properties!.SecretString)).toBe(
        JSON.stringify({
          'Fn::Join': [
            '',
            [
              '{"keyPairId":"',
              { Ref: publicKeyOf(template, generation)[0] },
              '","privateKeySecretArn":"',
              { 'Fn::GetAtt': [keyPairOf(template, generation)[0], 'SecretArn'] },
              `","generation":${generation}}`,
            ],
          ],
        }),
      );
      // It waits for every other resource of the stack, the key group first: handlers move to
      // a key pair only once it is trusted and nothing else of the deployment can still fail.
      const waitsFor = dependenciesOf(template, secretId);
      const others = Object.keys(template.data).filter((id) => id !== secretId);
      expect(others.filter((id) => !waitsFor.has(id))).toEqual([]);
      expect(secret.DependsOn).toContain(oneOf(template, 'AWS::CloudFront::KeyGroup')[0]);
    }
  });

  test('handlers find the current key through a secret that is the same for every generation, so a rotation needs no deploy of their stack', () => {
    const api = JSON.parse(first.api) as { Resources: Record<string, Resource> };
    const signers = Object.values(api.Resources).filter(
      (r) =>
        r.Type === 'AWS::Lambda::Function' &&
        JSON.stringify(r.Properties).includes(variableName('imagesBaseUrl')),
    );
    expect(signers.length).toBeGreaterThan(0);
    for (const fn of signers) {
      const variables = (fn.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
      // No key pair id, no private key secret: nothing that a rotation changes. The session
      // signing key is a key of its own, which a URL-signing rotation leaves alone.
      const sessionKey = variableName('sessionSigningKeySecretArn');
      expect(Object.keys(variables).filter((v) => /SIGNING|KEY_PAIR/.test(v) && v !== sessionKey)).toEqual([
        'CURRENT_SIGNING_KEY_SECRET_ARN',
      ]);
      // Read through the data stack's output of the current-key secret's ARN.
      const [secretId] = currentKeySecretOf(first);
      expect(currentKeySecretOf(overlap)[0]).toBe(secretId);
      const reference = variables[variableName('currentSigningKeySecretArn')] as {
        'Fn::GetStackOutput': { OutputName: string };
      };
      const output = first.outputs[reference['Fn::GetStackOutput'].OutputName];
      expect(output.Value).toEqual({ Ref: secretId });
    }
    // The handlers' stack is the same in every template: `cdk deploy` rightly leaves it alone.
    for (const template of [overlap, retired, next]) expect(template.api).toBe(first.api);
  });
});

function currentKeySecretOf(template: Templates): [string, Resource] {
  const ids = idsOf(template, 'AWS::SecretsManager::Secret').filter((id) =>
    id.startsWith('UrlSigningKeyPairCurrentKey'),
  );
  expect(ids).toHaveLength(1);
  return [ids[0], template.data[ids[0]]];
}

/** Every resource that `id` waits for: DependsOn, Ref and Fn::GetAtt, followed through. */
function dependenciesOf(template: Templates, id: string): Set<string> {
  const found = new Set<string>();
  const visit = (from: string) => {
    const resource = template.data[from];
    const text = JSON.stringify(resource.Properties ?? {});
    const named = [
      ...(resource.DependsOn ?? []),
      ...[...text.matchAll(/\{"Ref":"(\w+)"\}/g)].map((m) => m[1]),
      ...[...text.matchAll(/\{"Fn::GetAtt":\["(\w+)"/g)].map((m) => m[1]),
    ].filter((name) => name in template.data);
    for (const name of named) {
      if (found.has(name)) continue;
      found.add(name);
      visit(name);
    }
  };
  visit(id);
  return found;
}
