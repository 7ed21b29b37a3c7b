import { ArnFormat, RemovalPolicy, SecretValue, Stack, Token } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, IConstruct } from 'constructs';
import { CurrentSigningKey } from '../../lambda/contracts/current-signing-key';
import { FunctionSizing } from '../../lambda/contracts/handler-deployment';
import { backgroundFunction as urlSigningKeyPairFunction } from '../../lambda/delivery/url-signing-key-pair/function';
import { acknowledge, acknowledgeHipaaAndNist, acknowledgeWildcard } from '../core/acknowledgements';
import { PlatformFunction } from '../core/platform-function';
import { UrlSigningKeyGeneration } from './url-signing-key-generation';

export interface UrlSigningKeyPairProps {
  /** Encrypts the private keys in Secrets Manager and the function's logs. */
  readonly encryptionKey: kms.IKey;
  /** Days that the key pair function's logs are kept. */
  readonly logRetentionDays: number;
  /** The generation that signs; raising it by one makes a new key pair beside the current one. */
  readonly generation: number;
  /**
   * Generations up to this one are no longer trusted; the one before `generation` stays in the
   * key group until it is retired, so that URLs it signed keep working.
   * @default 0 - none retired
   */
  readonly retiredGeneration?: number;
}

/**
 * The key pairs that sign CloudFront URLs and cookies, made at deploy time, one per generation: a
 * custom resource generates each, puts its private key in Secrets Manager (encrypted with the
 * platform key) and returns its public key. The trusted key group holds the current generation's
 * public key and, until it is retired, the previous one's. The `CurrentKey` secret names the key
 * pair that signs; handlers read it at run time, so a rotation needs no redeploy of their stack.
 */
export class UrlSigningKeyPair extends Construct {
  /** The generation that signs. */
  readonly current: UrlSigningKeyGeneration;
  /** The generations whose public keys the key group holds, oldest first. */
  readonly trusted: readonly UrlSigningKeyGeneration[];
  readonly keyGroup: cloudfront.KeyGroup;
  /** Names the key pair that signs now (`CurrentSigningKey`); holds no private key. */
  readonly currentKeySecret: secretsmanager.Secret;
  private readonly encryptionKey: kms.IKey;
  /** The secrets of the key pairs are named `<prefix>/generation-<n>-<uuid>`. */
  readonly secretNamePrefix: string;

  constructor(scope: Construct, id: string, props: UrlSigningKeyPairProps) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    const stack = Stack.of(this);
    this.secretNamePrefix = `${stack.stackName}/url-signing-key`;
    const retired = props.retiredGeneration ?? 0;
    if (!Number.isInteger(props.generation) || props.generation < 1 || retired >= props.generation) {
      throw new Error(
        `urlSigningKeyRetiredGeneration (${retired}) must be below urlSigningKeyGeneration (${props.generation}): the generation that signs cannot be retired`,
      );
    }

    const generator = new PlatformFunction(this, 'Generator', {
      handler: urlSigningKeyPairFunction.handler,
      description: urlSigningKeyPairFunction.description,
      invokedBy: 'cloudformation',
      sizing: urlSigningKeyPairFunction.sizing as FunctionSizing,
      // It reads no settings: what it needs comes as the custom resource's properties.
      environment: {},
      // Runs once per deploy: a trace would tell nothing its log does not.
      tracing: false,
      logRetentionDays: props.logRetentionDays,
      logEncryptionKey: props.encryptionKey,
    });
    // Its permission `managesSigningKeys`: the secrets of these key pairs, and the key that
    // encrypts them. It reads a secret back on Update, to return the public key it already has.
    generator.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'secretsmanager:CreateSecret',
          'secretsmanager:DeleteSecret',
          'secretsmanager:GetSecretValue',
          'secretsmanager:TagResource',
        ],
        resources: [this.generationSecretsArn(stack)],
      }),
    );
    // Secrets Manager asks KMS for a data key on the caller's behalf when it stores the secret.
    props.encryptionKey.grant(generator, 'kms:GenerateDataKey', 'kms:Decrypt');

    const generations = [props.generation - 1, props.generation].filter((g) => g > retired);
    this.trusted = generations.map((generation) => {
      const made = new UrlSigningKeyGeneration(this, {
        generation,
        serviceToken: generator.function.functionArn,
        secretNamePrefix: this.secretNamePrefix,
        kmsKeyArn: props.encryptionKey.keyArn,
      });
      made.node.addDependency(generator);
      return made;
    });
    this.current = this.trusted[this.trusted.length - 1];

    this.keyGroup = new cloudfront.KeyGroup(this, 'KeyGroup', {
      items: this.trusted.map((generation) => generation.publicKey),
      comment: 'Signers of imaging data URLs',
    });

    const currentKey: CurrentSigningKey = {
      keyPairId: this.current.publicKey.publicKeyId,
      privateKeySecretArn: this.current.privateKeySecretArn,
      generation: this.current.generation,
    };
    this.currentKeySecret = new secretsmanager.Secret(this, 'CurrentKey', {
      description: 'Names the key pair that signs CloudFront URLs and cookies for imaging data now',
      // Ids and an ARN, no key material: what it names is itself a secret, readable only with a grant.
      secretStringValue: SecretValue.unsafePlainText(stack.toJsonString(currentKey)),
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Handlers move to a key pair only once the key group trusts it.
    this.currentKeySecret.node.addDependency(this.keyGroup);
    const rotationReason =
      'It names the current key pair and holds no key material; the key pairs rotate through urlSigningKeyGeneration, which a Secrets Manager rotation function could not do (CloudFront must trust a new public key first).';
    acknowledge(this.currentKeySecret, { id: 'AwsSolutions-SMG4', reason: rotationReason });
    acknowledgeHipaaAndNist(this.currentKeySecret, 'SecretsManagerRotationEnabled', rotationReason);

    const shown = (value: string, token: string) => (Token.isUnresolved(value) ? `<${token}>` : value);
    acknowledge(generator.role, {
      id: `AwsSolutions-IAM5[Resource::arn:${shown(stack.partition, 'AWS::Partition')}:secretsmanager:${shown(stack.region, 'AWS::Region')}:${shown(stack.account, 'AWS::AccountId')}:secret:${this.secretNamePrefix}/*]`,
      reason:
        "Secret names get a random suffix at creation, so no exact ARN exists beforehand; the prefix limits the function to secrets of this stack's key pairs.",
    });
  }

  /**
   * Makes the `CurrentKey` secret the last resource of its stack to change, after each of
   * `others`: handlers switch to a new key pair only once every other change of the deployment has
   * succeeded, so a deployment that fails and rolls back leaves them signing with the key pair
   * that the rolled-back key group still trusts.
   */
  switchesAfter(others: readonly IConstruct[]): void {
    for (const other of others) {
      if (other !== this) this.currentKeySecret.node.addDependency(other);
    }
  }

  /**
   * Lets a handler sign: read the secret that names the current key pair and the secrets of the
   * key pairs, decrypted through Secrets Manager only.
   */
  grantSign(grantee: iam.IGrantable): iam.Grant {
    const principal = grantee.grantPrincipal;
    const generationSecrets = this.generationSecretsArn(
      Construct.isConstruct(principal) ? Stack.of(principal) : Stack.of(this),
    );
    acknowledgeWildcard(
      grantee,
      generationSecrets,
      'The secret of each key pair generation is made at deploy time with a random suffix, and handlers find the current one at run time through the secret that names it; the prefix keeps them to the key pairs of this platform, and reading is all they may do.',
    );
    // Not the secret's own grantRead: it would name the grantee in the data stack's key policy,
    // which the stacks of the handlers depend on.
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [this.currentKeySecret.secretArn, generationSecrets],
    }).combine(
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['kms:Decrypt'],
        resourceArns: [this.encryptionKey.keyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` },
        },
      }),
    );
  }

  /** The secrets of every generation, as an ARN pattern in `stack`. */
  private generationSecretsArn(stack: Stack): string {
    return stack.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${this.secretNamePrefix}/*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }
}
