import { randomBytes, randomUUID } from 'node:crypto';
import * as http from 'node:http';
import { close, listen } from '../port-check';
import { guardServer, RequestGuard } from './request-guard';
import { RunningService } from './running-service';

/**
 * A Secrets Manager endpoint for local mode, speaking the service's JSON protocol for the few
 * operations the platform uses. No local server for Secrets Manager exists, so handlers reach
 * this one through `AWS_ENDPOINT_URL_SECRETS_MANAGER` and run their production code unchanged.
 * Secrets live in memory; local mode seeds the signing key at every start.
 */
export interface StoredSecret {
  readonly arn: string;
  readonly name: string;
  readonly secretString: string;
  readonly versionId: string;
  readonly kmsKeyId?: string;
  readonly description?: string;
  readonly tags: { Key: string; Value: string }[];
  readonly createdDate: number;
}

export interface SecretsManagerStandIn extends RunningService {
  readonly secrets: ReadonlyMap<string, StoredSecret>;
  /**
   * Stores a secret directly, as a deployment would have: a new secret, or a new value of the
   * secret of that name, which keeps its ARN.
   */
  put(name: string, secretString: string): StoredSecret;
  /** Deletes a secret directly, as a deployment would, without a recovery window. */
  delete(secretId: string): void;
  stop(): Promise<void>;
}

class ServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const LOCAL_ACCOUNT = '000000000000';

export async function startSecretsManagerStandIn(options: {
  host: string;
  port: number;
  region?: string;
  /** Checks each request before the secret is touched (local IAM). */
  guard?: RequestGuard;
}): Promise<SecretsManagerStandIn> {
  const region = options.region ?? 'eu-central-1';
  const byArn = new Map<string, StoredSecret>();

  const find = (secretId: unknown): StoredSecret => {
    if (typeof secretId !== 'string' || secretId === '') {
      throw new ServiceError('InvalidParameterException', 'SecretId is required');
    }
    const secret = byArn.get(secretId) ?? [...byArn.values()].find((s) => s.name === secretId);
    if (!secret)
      throw new ServiceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return secret;
  };

  const create = (input: Record<string, unknown>): StoredSecret => {
    const name = input.Name;
    if (typeof name !== 'string' || !/^[A-Za-z0-9/_+=.@-]{1,512}$/.test(name)) {
      throw new ServiceError(
        'InvalidParameterException',
        'Name is missing or has characters a secret name cannot hold',
      );
    }
    if ([...byArn.values()].some((s) => s.name === name)) {
      throw new ServiceError(
        'ResourceExistsException',
        `The operation failed because the secret ${name} already exists.`,
      );
    }
    if (typeof input.SecretString !== 'string') {
      throw new ServiceError('InvalidParameterException', 'SecretString is required');
    }
    const secret: StoredSecret = {
      arn: `arn:aws:secretsmanager:${region}:${LOCAL_ACCOUNT}:secret:${name}-${randomBytes(3).toString('hex')}`,
      name,
      secretString: input.SecretString,
      versionId: randomUUID(),
      kmsKeyId: typeof input.KmsKeyId === 'string' ? input.KmsKeyId : undefined,
      description: typeof input.Description === 'string' ? input.Description : undefined,
      tags: Array.isArray(input.Tags) ? (input.Tags as StoredSecret['tags']) : [],
      createdDate: Date.now() / 1000,
    };
    byArn.set(secret.arn, secret);
    return secret;
  };

  const operations: Record<string, (input: Record<string, unknown>) => unknown> = {
    CreateSecret: (input) => {
      const secret = create(input);
      return { ARN: secret.arn, Name: secret.name, VersionId: secret.versionId };
    },
    GetSecretValue: (input) => {
      const secret = find(input.SecretId);
      return {
        ARN: secret.arn,
        Name: secret.name,
        SecretString: secret.secretString,
        VersionId: secret.versionId,
        VersionStages: ['AWSCURRENT'],
        CreatedDate: secret.createdDate,
      };
    },
    DescribeSecret: (input) => {
      const secret = find(input.SecretId);
      return {
        ARN: secret.arn,
        Name: secret.name,
        Description: secret.description,
        KmsKeyId: secret.kmsKeyId,
        Tags: secret.tags,
      };
    },
    DeleteSecret: (input) => {
      const secret = find(input.SecretId);
      if (input.ForceDeleteWithoutRecovery !== true) {
        throw new ServiceError('InvalidRequestException', 'local mode deletes secrets only without recovery');
      }
      byArn.delete(secret.arn);
      return { ARN: secret.arn, Name: secret.name, DeletionDate: Date.now() / 1000 };
    },
    ListSecrets: () => ({ SecretList: [...byArn.values()].map((s) => ({ ARN: s.arn, Name: s.name })) }),
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = operations[target.replace(/^secretsmanager\./, '')];
      let status = 200;
      let body: unknown;
      try {
        if (req.method !== 'POST' || !target.startsWith('secretsmanager.') || !operation) {
          throw new ServiceError(
            'UnknownOperationException',
            `operation ${target || '(none)'} is not supported locally`,
          );
        }
        body = operation(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'));
      } catch (err) {
        status = 400;
        const type = err instanceof ServiceError ? err.type : 'InvalidRequestException';
        body = { __type: type, message: (err as Error).message };
        res.setHeader('x-amzn-errortype', type);
      }
      res.writeHead(status, {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-requestid': randomUUID(),
      });
      res.end(JSON.stringify(body));
    });
  });
  guardServer(server, options.guard);
  await listen(server, options.host, options.port);

  return {
    env: { AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://${options.host}:${options.port}` },
    secrets: byArn,
    put: (name, secretString) => {
      const existing = [...byArn.values()].find((s) => s.name === name);
      if (!existing) return create({ Name: name, SecretString: secretString });
      const updated = { ...existing, secretString, versionId: randomUUID() };
      byArn.set(existing.arn, updated);
      return updated;
    },
    delete: (secretId) => {
      byArn.delete(find(secretId).arn);
    },
    stop: () => close(server),
  };
}
