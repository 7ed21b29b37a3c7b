import { CustomResource } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { Construct } from 'constructs';

export interface UrlSigningKeyGenerationProps {
  /** The `urlSigningKeyGeneration` this key pair belongs to. */
  readonly generation: number;
  /** The function that makes key pairs (`Custom::UrlSigningKeyPair`). */
  readonly serviceToken: string;
  /** Its secret is named `<prefix>/generation-<n>-<uuid>`. */
  readonly secretNamePrefix: string;
  /** ARN of the KMS key that encrypts the private key. */
  readonly kmsKeyArn: string;
}

/**
 * One generation of the URL-signing key pair: the custom resource that makes it (private key in
 * a secret of its own) and its CloudFront public key. The generation is part of the construct id,
 * so each generation has its own logical ids and its own caller reference: a rotation creates new
 * resources beside the old ones instead of updating them, which CloudFront could not do (a public
 * key's encoded key cannot change), and a rollback deletes the new ones and leaves the old intact.
 */
export class UrlSigningKeyGeneration extends Construct {
  readonly generation: number;
  readonly publicKey: cloudfront.PublicKey;
  /** ARN of the secret that holds the PEM private key. */
  readonly privateKeySecretArn: string;

  constructor(scope: Construct, props: UrlSigningKeyGenerationProps) {
    super(scope, `Generation${props.generation}`);
    this.generation = props.generation;
    const keyPair = new CustomResource(this, 'Resource', {
      resourceType: 'Custom::UrlSigningKeyPair',
      serviceToken: props.serviceToken,
      properties: {
        SecretNamePrefix: props.secretNamePrefix,
        KmsKeyId: props.kmsKeyArn,
        Generation: props.generation,
      },
    });
    this.privateKeySecretArn = keyPair.getAttString('SecretArn');
    this.publicKey = new cloudfront.PublicKey(this, 'PublicKey', {
      encodedKey: keyPair.getAttString('PublicKeyPem'),
      comment: `Verifies signed URLs and cookies for imaging data, generation ${props.generation}`,
    });
  }
}
