import {
  CreateSecretCommand,
  DeleteSecretCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type {
  CloudFormationCustomResourceDeleteEvent,
  CloudFormationCustomResourceEvent,
  Context,
} from 'aws-lambda';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { CustomResourceOutcome, sendCloudFormationResponse } from '../../core/cloudformation-response';
import { parseEnvironment } from '../../contracts/handler-environment';
import { logger } from '../../core/logger';
import { backgroundFunction } from './function';

/**
 * Custom resource `Custom::UrlSigningKeyPair`: generates the RSA key pair that signs CloudFront
 * URLs. The private key goes straight into a new Secrets Manager secret encrypted with the
 * platform's KMS key and never leaves this function otherwise; only the public key is returned.
 *
 * Create and Update each make a fresh key pair in a fresh secret (a new physical id), so a
 * changed property (the `Generation` counter) rotates the key; CloudFormation then deletes the
 * old secret. Delete removes
 * the secret without a recovery window, so nothing that could sign a URL is left behind.
 */
export interface UrlSigningKeyPairProperties {
  /** Secret names start with `<prefix>/`; the function may only touch secrets under it. */
  readonly SecretNamePrefix: string;
  /** KMS key that encrypts the secret. */
  readonly KmsKeyId: string;
}

parseEnvironment(backgroundFunction);
const secretsManager = new SecretsManagerClient({});

export async function handler(event: CloudFormationCustomResourceEvent, context?: Context): Promise<void> {
  logger.appendKeys({ requestId: context?.awsRequestId, stackRequestId: event.RequestId });
  let outcome: CustomResourceOutcome;
  try {
    outcome = await applyUrlSigningKeyPairEvent(event);
  } catch (err) {
    logger.error('url signing key pair request failed', {
      requestType: event.RequestType,
      error: err as Error,
    });
    outcome = {
      status: 'FAILED',
      // A failed Create needs an id that the rollback's Delete recognises as "nothing made".
      physicalResourceId:
        'PhysicalResourceId' in event ? event.PhysicalResourceId : `failed-${event.RequestId}`,
      reason: (err as Error).message,
    };
  }
  await sendCloudFormationResponse(event, outcome);
}

export async function applyUrlSigningKeyPairEvent(
  event: CloudFormationCustomResourceEvent,
): Promise<CustomResourceOutcome> {
  switch (event.RequestType) {
    case 'Create':
    case 'Update':
      return createKeyPair(readProperties(event.ResourceProperties), event.StackId);
    case 'Delete':
      await deleteKeyPair(event);
      return { status: 'SUCCESS', physicalResourceId: event.PhysicalResourceId };
  }
}

function readProperties(raw: Record<string, unknown>): UrlSigningKeyPairProperties {
  const { SecretNamePrefix, KmsKeyId } = raw;
  if (typeof SecretNamePrefix !== 'string' || !/^[A-Za-z0-9/_+=.@-]{1,400}$/.test(SecretNamePrefix)) {
    throw new Error('SecretNamePrefix must be a valid secret name prefix');
  }
  if (typeof KmsKeyId !== 'string' || KmsKeyId.length === 0) {
    throw new Error('KmsKeyId must name the KMS key that encrypts the private key');
  }
  return { SecretNamePrefix, KmsKeyId };
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
      Name: `${properties.SecretNamePrefix}/${randomUUID()}`,
      Description: 'Private key that signs CloudFront URLs and cookies for imaging data',
      KmsKeyId: properties.KmsKeyId,
      SecretString: privateKey,
      Tags: [{ Key: 'cloudformation:stack-id', Value: stackId }],
    }),
  );
  if (!created.ARN) throw new Error('Secrets Manager returned no ARN for the new secret');
  logger.info('created url signing key pair', { secretArn: created.ARN });
  return {
    status: 'SUCCESS',
    physicalResourceId: created.ARN,
    data: { SecretArn: created.ARN, PublicKeyPem: publicKey },
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
