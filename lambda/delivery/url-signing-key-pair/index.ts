import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type {
  CloudFormationCustomResourceDeleteEvent,
  CloudFormationCustomResourceEvent,
  CloudFormationCustomResourceUpdateEvent,
} from 'aws-lambda';
import { createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { CustomResourceOutcome, customResourceHandler } from '../../core/cloudformation-response';
import { parseEnvironment } from '../../contracts/handler-environment';
import { logger } from '../../core/logger';
import { backgroundFunction } from './function';

/**
 * Custom resource `Custom::UrlSigningKeyPair`: one generation of the RSA key pair that signs
 * CloudFront URLs. The private key goes straight into a new Secrets Manager secret encrypted with
 * the platform's KMS key and never leaves this function otherwise; only the public key is returned.
 *
 * Each generation is a resource of its own (its logical id carries the generation), so a rotation
 * creates a new resource beside the old one and never updates it. Only Create makes a key pair:
 * an Update (a changed service token, or CloudFormation rolling an update back with the old
 * properties) returns the key pair the resource already has, so a rollback never mints another
 * key that the distribution would not trust. Delete removes the secret without a recovery window,
 * so nothing that could sign a URL is left behind.
 */
export interface UrlSigningKeyPairProperties {
  /** Secret names start with `<prefix>/`; the function may only touch secrets under it. */
  readonly SecretNamePrefix: string;
  /** KMS key that encrypts the secret. */
  readonly KmsKeyId: string;
  /** The `urlSigningKeyGeneration` this key pair belongs to. */
  readonly Generation: number;
}

parseEnvironment(backgroundFunction);
const secretsManager = new SecretsManagerClient({});

export const handler = customResourceHandler('url signing key pair', applyUrlSigningKeyPairEvent);

export async function applyUrlSigningKeyPairEvent(
  event: CloudFormationCustomResourceEvent,
): Promise<CustomResourceOutcome> {
  switch (event.RequestType) {
    case 'Create':
      return createKeyPair(readProperties(event.ResourceProperties), event.StackId);
    case 'Update':
      return keepKeyPair(event);
    case 'Delete':
      await deleteKeyPair(event);
      return { status: 'SUCCESS', physicalResourceId: event.PhysicalResourceId };
  }
}

function readProperties(raw: Record<string, unknown>): UrlSigningKeyPairProperties {
  const { SecretNamePrefix, KmsKeyId, Generation } = raw;
  if (typeof SecretNamePrefix !== 'string' || !/^[A-Za-z0-9/_+=.@-]{1,400}$/.test(SecretNamePrefix)) {
    throw new Error('SecretNamePrefix must be a valid secret name prefix');
  }
  if (typeof KmsKeyId !== 'string' || KmsKeyId.length === 0) {
    throw new Error('KmsKeyId must name the KMS key that encrypts the private key');
  }
  // CloudFormation hands a custom resource its numbers as strings.
  if (!/^[1-9]\d{0,8}$/.test(String(Generation))) {
    throw new Error('Generation must be a whole number from 1');
  }
  return { SecretNamePrefix, KmsKeyId, Generation: Number(Generation) };
}

/** Where a generation's secrets are named: `<prefix>/generation-<n>-<uuid>`. */
function secretNameStart(properties: UrlSigningKeyPairProperties): string {
  return `${properties.SecretNamePrefix}/generation-${properties.Generation}-`;
}

async function createKeyPair(
  properties: UrlSigningKeyPairProperties,
  stackId: string,
): Promise<CustomResourceOutcome> {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048, // the size CloudFront accepts for key groups
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const created = await secretsManager.send(
    new CreateSecretCommand({
      Name: `${secretNameStart(properties)}${randomUUID()}`,
      Description: `Private key that signs CloudFront URLs and cookies for imaging data, generation ${properties.Generation}`,
      KmsKeyId: properties.KmsKeyId,
      SecretString: privateKey,
      Tags: [{ Key: 'cloudformation:stack-id', Value: stackId }],
    }),
  );
  if (!created.ARN) throw new Error('Secrets Manager returned no ARN for the new secret');
  logger.info('created url signing key pair', { secretArn: created.ARN, generation: properties.Generation });
  return {
    status: 'SUCCESS',
    physicalResourceId: created.ARN,
    data: { SecretArn: created.ARN, PublicKeyPem: publicKey },
  };
}

/**
 * An Update keeps the key pair: the same physical id and the same public key, read back from the
 * private key in the secret. It checks the properties against the secret itself, not against the
 * old properties, so a rollback (which sends the old properties as the new ones) always succeeds.
 */
async function keepKeyPair(event: CloudFormationCustomResourceUpdateEvent): Promise<CustomResourceOutcome> {
  const properties = readProperties(event.ResourceProperties);
  const physicalResourceId = event.PhysicalResourceId;
  if (!physicalResourceId.includes(`:secret:${secretNameStart(properties)}`)) {
    throw new Error(
      `the key pair ${physicalResourceId} is not of generation ${properties.Generation} under ${properties.SecretNamePrefix}/; ` +
        'a key pair never changes generation: raise urlSigningKeyGeneration to make a new one',
    );
  }
  let secret;
  try {
    secret = await secretsManager.send(new GetSecretValueCommand({ SecretId: physicalResourceId }));
  } catch (err) {
    if (err instanceof ResourceNotFoundException) {
      throw new Error(
        `the secret ${physicalResourceId} of generation ${properties.Generation} no longer exists; raise urlSigningKeyGeneration to make a new key pair`,
        { cause: err },
      );
    }
    throw err;
  }
  if (!secret.SecretString?.includes('PRIVATE KEY')) {
    throw new Error(`secret ${physicalResourceId} holds no PEM private key`);
  }
  const publicKey = createPublicKey(secret.SecretString).export({ type: 'spki', format: 'pem' }).toString();
  logger.info('kept url signing key pair', {
    secretArn: physicalResourceId,
    generation: properties.Generation,
  });
  return {
    status: 'SUCCESS',
    physicalResourceId,
    data: { SecretArn: physicalResourceId, PublicKeyPem: publicKey },
  };
}

async function deleteKeyPair(event: CloudFormationCustomResourceDeleteEvent): Promise<void> {
  const physicalResourceId = event.PhysicalResourceId;
  const prefix = event.ResourceProperties.SecretNamePrefix;
  // Only secrets this resource made are deleted; ids of failed creates name nothing, and a
  // Delete must not fail on properties that a failed Create never acted on.
  if (typeof prefix !== 'string' || !physicalResourceId.includes(`:secret:${prefix}/`)) {
    logger.info('nothing to delete', { physicalResourceId });
    return;
  }
  try {
    await secretsManager.send(
      new DeleteSecretCommand({ SecretId: physicalResourceId, ForceDeleteWithoutRecovery: true }),
    );
    logger.info('deleted url signing key pair', { secretArn: physicalResourceId });
  } catch (err) {
    if (err instanceof ResourceNotFoundException) return;
    throw err;
  }
}
