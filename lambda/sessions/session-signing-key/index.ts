import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { CustomResourceOutcome, customResourceHandler } from '../../core/cloudformation-response';
import { parseEnvironment } from '../../contracts/handler-environment';
import { logger } from '../../core/logger';
import { backgroundFunction } from './function';

/**
 * Custom resource `Custom::SessionSigningKey`: the Ed25519 key pair that signs viewer session
 * credentials. The private key goes straight into a new secret encrypted with the platform key;
 * only the public key (PEM) is returned, for viewers to verify with. Only Create makes a key pair:
 * an Update (or a rollback's) returns the one the resource has, read back from its secret, so
 * credentials already handed out stay valid. Delete removes the secret without a recovery window.
 */
export interface SessionSigningKeyProperties {
  /** The secret's name starts with `<prefix>/`; the function may only touch secrets under it. */
  readonly SecretNamePrefix: string;
  /** KMS key that encrypts the secret. */
  readonly KmsKeyId: string;
}

parseEnvironment(backgroundFunction);
const secretsManager = new SecretsManagerClient({});

export const handler = customResourceHandler('session signing key', applySessionSigningKeyEvent);

export async function applySessionSigningKeyEvent(
  event: CloudFormationCustomResourceEvent,
): Promise<CustomResourceOutcome> {
  switch (event.RequestType) {
    case 'Create': {
      const properties = readProperties(event.ResourceProperties);
      const { publicKey, privateKey } = generateKeyPairSync('ed25519', {
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      });
      const created = await secretsManager.send(
        new CreateSecretCommand({
          Name: `${properties.SecretNamePrefix}/${randomUUID()}`,
          Description: 'Private key (Ed25519) that signs viewer session credentials',
          KmsKeyId: properties.KmsKeyId,
          SecretString: privateKey,
          Tags: [{ Key: 'cloudformation:stack-id', Value: event.StackId }],
        }),
      );
      if (!created.ARN) throw new Error('Secrets Manager returned no ARN for the new secret');
      logger.info('created session signing key', { secretArn: created.ARN });
      return outcome(created.ARN, publicKey);
    }
    case 'Update': {
      const properties = readProperties(event.ResourceProperties);
      const id = event.PhysicalResourceId;
      if (!id.includes(`:secret:${properties.SecretNamePrefix}/`)) {
        throw new Error(`the session signing key ${id} is not under ${properties.SecretNamePrefix}/`);
      }
      const secret = await secretsManager.send(new GetSecretValueCommand({ SecretId: id }));
      if (!secret.SecretString?.includes('PRIVATE KEY'))
        throw new Error(`secret ${id} holds no PEM private key`);
      const publicKey = createPublicKey(secret.SecretString)
        .export({ type: 'spki', format: 'pem' })
        .toString();
      return outcome(id, publicKey);
    }
    case 'Delete': {
      const id = event.PhysicalResourceId;
      const prefix = event.ResourceProperties.SecretNamePrefix;
      // Only a secret this resource made; a failed Create's id names nothing, and a Delete must
      // not fail on properties that a failed Create never acted on.
      if (typeof prefix === 'string' && prefix.length > 0 && id.includes(`:secret:${prefix}/`)) {
        try {
          await secretsManager.send(
            new DeleteSecretCommand({ SecretId: id, ForceDeleteWithoutRecovery: true }),
          );
        } catch (err) {
          if (!(err instanceof ResourceNotFoundException)) throw err;
        }
      }
      return { status: 'SUCCESS', physicalResourceId: id };
    }
  }
}

function outcome(secretArn: string, publicKeyPem: string): CustomResourceOutcome {
  return {
    status: 'SUCCESS',
    physicalResourceId: secretArn,
    data: { SecretArn: secretArn, PublicKeyPem: publicKeyPem },
  };
}

function readProperties(raw: Record<string, unknown>): SessionSigningKeyProperties {
  const { SecretNamePrefix, KmsKeyId } = raw;
  if (typeof SecretNamePrefix !== 'string' || !/^[A-Za-z0-9/_+=.@-]{1,400}$/.test(SecretNamePrefix)) {
    throw new Error('SecretNamePrefix must be a valid secret name prefix');
  }
  if (typeof KmsKeyId !== 'string' || KmsKeyId.length === 0) {
    throw new Error('KmsKeyId must name the KMS key that encrypts the private key');
  }
  return { SecretNamePrefix, KmsKeyId };
}
