import { ArnFormat, CustomResource, Stack, Token } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { FunctionSizing } from '../../lambda/contracts/handler-deployment';
import { backgroundFunction as urlSigningKeyPairFunction } from '../../lambda/delivery/url-signing-key-pair/function';
import { acknowledge } from '../core/acknowledgements';
import { PlatformFunction } from '../core/platform-function';

export interface UrlSigningKeyPairProps {
  /** Encrypts the private key in Secrets Manager and the function's logs. */
  readonly encryptionKey: kms.IKey;
  /** Days that the key pair function's logs are kept. */
  readonly logRetentionDays: number;
  /** Changing it makes a new key pair replace the current one. */
  readonly generation: number;
}

/**
 * The key pair that signs CloudFront URLs and cookies, made at deploy time: a custom resource
 * generates it, puts the private key in Secrets Manager (encrypted with the platform key) and
 * returns the public key, which becomes the only member of the distribution's trusted key group.
 */
export class UrlSigningKeyPair extends Construct {
  readonly publicKey: cloudfront.PublicKey;
  readonly keyGroup: cloudfront.KeyGroup;
  /** The secret holding the PEM private key. */
  readonly privateKeySecret: secretsmanager.ISecret;
  private readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: UrlSigningKeyPairProps) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    const stack = Stack.of(this);
    const secretNamePrefix = `${stack.stackName}/url-signing-key`;

    const generator = new PlatformFunction(this, 'Generator', {
      handler: urlSigningKeyPairFunction.handler,
      description: urlSigningKeyPairFunction.description,
      invokedBy: 'cloudformation',
      sizing: urlSigningKeyPairFunction.sizing as FunctionSizing,
      // It reads no settings: what it needs comes as the custom resource's properties.
      environment: {},
      logRetentionDays: props.logRetentionDays,
      logEncryptionKey: props.encryptionKey,
    });
    // Its permission `managesSigningKeys`: the secrets of this key pair, and the key that encrypts them.
    generator.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:CreateSecret', 'secretsmanager:DeleteSecret', 'secretsmanager:TagResource'],
        resources: [
          stack.formatArn({
            service: 'secretsmanager',
            resource: 'secret',
            resourceName: `${secretNamePrefix}/*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    // Secrets Manager asks KMS for a data key on the caller's behalf when it stores the secret.
    props.encryptionKey.grant(generator, 'kms:GenerateDataKey', 'kms:Decrypt');

    const keyPair = new CustomResource(this, 'Resource', {
      resourceType: 'Custom::UrlSigningKeyPair',
      serviceToken: generator.function.functionArn,
      properties: {
        SecretNamePrefix: secretNamePrefix,
        KmsKeyId: props.encryptionKey.keyArn,
        Generation: props.generation,
      },
    });
    keyPair.node.addDependency(generator);

    this.privateKeySecret = secretsmanager.Secret.fromSecretCompleteArn(
      this,
      'PrivateKeySecret',
      keyPair.getAttString('SecretArn'),
    );
    this.publicKey = new cloudfront.PublicKey(this, 'PublicKey', {
      encodedKey: keyPair.getAttString('PublicKeyPem'),
      comment: 'Verifies signed URLs and cookies for imaging data',
    });
    this.keyGroup = new cloudfront.KeyGroup(this, 'KeyGroup', {
      items: [this.publicKey],
      comment: 'Signers of imaging data URLs',
    });

    const shown = (value: string, token: string) => (Token.isUnresolved(value) ? `<${token}>` : value);
    acknowledge(generator.role, {
      id: `AwsSolutions-IAM5[Resource::arn:${shown(stack.partition, 'AWS::Partition')}:secretsmanager:${shown(stack.region, 'AWS::Region')}:${shown(stack.account, 'AWS::AccountId')}:secret:${secretNamePrefix}/*]`,
      reason:
        "Secret names get a random suffix at creation, so no exact ARN exists beforehand; the prefix limits the function to secrets of this stack's key pair.",
    });
  }

  /** Lets a handler read the private key, decrypted through Secrets Manager only. */
  grantSign(grantee: iam.IGrantable): iam.Grant {
    return this.privateKeySecret.grantRead(grantee).combine(
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
}
