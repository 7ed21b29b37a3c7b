import { ArnFormat, CustomResource, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { FunctionSizing } from '../../lambda/contracts/handler-deployment';
import { backgroundFunction as sessionSigningKeyFunction } from '../../lambda/sessions/session-signing-key/function';
import { acknowledge } from '../core/acknowledgements';
import { PlatformFunction } from '../core/platform-function';

export interface SessionSigningKeyProps {
  /** Encrypts the private key in Secrets Manager and the function's logs. */
  readonly encryptionKey: kms.IKey;
  /** Days that the key function's logs are kept. */
  readonly logRetentionDays: number;
  /** The SSM parameter that publishes the public key to viewers: `/<platform>/sessions/public-key`. */
  readonly publicKeyParameterName: string;
}

/**
 * The Ed25519 key pair that signs viewer session credentials, made at deploy time by a custom
 * resource: the private key in a Secrets Manager secret encrypted with the platform key, read only
 * by handlers whose deployment says `signsSessionCredentials`; the public key published in an SSM
 * parameter, which viewers verify credentials with. A key of its own, apart from the URL-signing
 * key pair: a viewer trusts it, and it signs nothing CloudFront would accept.
 */
export class SessionSigningKey extends Construct {
  /** ARN of the secret that holds the PEM private key. */
  readonly privateKeySecretArn: string;
  /** The public key, PEM (SPKI). */
  readonly publicKeyPem: string;
  readonly publicKeyParameter: ssm.StringParameter;
  private readonly encryptionKey: kms.IKey;
  /** The secret is named `<prefix>/<uuid>`. */
  readonly secretNamePrefix: string;

  constructor(scope: Construct, id: string, props: SessionSigningKeyProps) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    const stack = Stack.of(this);
    this.secretNamePrefix = `${stack.stackName}/session-signing-key`;

    const generator = new PlatformFunction(this, 'Generator', {
      handler: sessionSigningKeyFunction.handler,
      description: sessionSigningKeyFunction.description,
      invokedBy: 'cloudformation',
      sizing: sessionSigningKeyFunction.sizing as FunctionSizing,
      // It reads no settings: what it needs comes as the custom resource's properties.
      environment: {},
      // Runs once per deploy: a trace would tell nothing its log does not.
      tracing: false,
      logRetentionDays: props.logRetentionDays,
      logEncryptionKey: props.encryptionKey,
    });
    const secrets = stack.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${this.secretNamePrefix}/*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    // Its permission `managesSigningKeys`: the secret of this key, and the key that encrypts it.
    generator.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'secretsmanager:CreateSecret',
          'secretsmanager:DeleteSecret',
          'secretsmanager:GetSecretValue',
          'secretsmanager:TagResource',
        ],
        resources: [secrets],
      }),
    );
    props.encryptionKey.grant(generator, 'kms:GenerateDataKey', 'kms:Decrypt');
    const shown = (value: string, token: string) => (Token.isUnresolved(value) ? `<${token}>` : value);
    acknowledge(generator.role, {
      id: `AwsSolutions-IAM5[Resource::arn:${shown(stack.partition, 'AWS::Partition')}:secretsmanager:${shown(stack.region, 'AWS::Region')}:${shown(stack.account, 'AWS::AccountId')}:secret:${this.secretNamePrefix}/*]`,
      reason:
        "Secret names get a random suffix at creation, so no exact ARN exists beforehand; the prefix limits the function to the session signing key's secret of this stack.",
    });

    const keyPair = new CustomResource(this, 'Resource', {
      resourceType: 'Custom::SessionSigningKey',
      serviceToken: generator.function.functionArn,
      properties: { SecretNamePrefix: this.secretNamePrefix, KmsKeyId: props.encryptionKey.keyArn },
    });
    keyPair.node.addDependency(generator);
    this.privateKeySecretArn = keyPair.getAttString('SecretArn');
    this.publicKeyPem = keyPair.getAttString('PublicKeyPem');
    this.publicKeyParameter = new ssm.StringParameter(this, 'PublicKey', {
      parameterName: props.publicKeyParameterName,
      description: 'Public key (PEM, Ed25519) that viewers verify session credentials with',
      stringValue: this.publicKeyPem,
    });
  }

  /** Lets a handler sign session credentials: read the private key, decrypted through Secrets Manager only. */
  grantSign(grantee: iam.IGrantable): iam.Grant {
    // Identity policies only: a grant in the key's policy would make the data stack name roles of the api stack.
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [this.privateKeySecretArn],
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
}
