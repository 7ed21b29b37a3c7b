import { BatchClient, DescribeJobsCommand } from '@aws-sdk/client-batch';
import {
  CloudWatchLogsClient,
  GetLogEventsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-cloudwatch-logs';
import { ListTablesCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { LocalService } from './local-options';

export interface ServiceHealth {
  readonly ok: boolean;
  readonly url: string;
  readonly latencyMs: number;
  readonly error?: string;
}

export interface HealthProbes {
  readonly urls: Readonly<Record<Exclude<LocalService, 'api' | 'viewer'>, string>>;
  readonly s3: S3Client;
  readonly dynamodb: DynamoDBClient;
  readonly secretsManager: SecretsManagerClient;
  readonly sqs: SQSClient;
  readonly batch: BatchClient;
  readonly logs: CloudWatchLogsClient;
  readonly conversionQueueUrl: string;
  readonly bucketName: string;
  readonly signingKeySecretArn: string;
  /** The operator's access key id, which the CodePipeline stand-in's IAM check lets through. */
  readonly operatorAccessKeyId: string;
  readonly buildPipelineName: string;
}

/** Asks each embedded service a real question, so "ok" means it answers, not just that it listens. */
export async function checkServices(probes: HealthProbes): Promise<Record<string, ServiceHealth>> {
  const checks: Record<Exclude<LocalService, 'api' | 'viewer'>, () => Promise<unknown>> = {
    s3: () => probes.s3.send(new HeadBucketCommand({ Bucket: probes.bucketName })),
    dynamodb: () => probes.dynamodb.send(new ListTablesCommand({ Limit: 1 })),
    sqs: () => probes.sqs.send(new GetQueueAttributesCommand({ QueueUrl: probes.conversionQueueUrl })),
    batch: () => probes.batch.send(new DescribeJobsCommand({ jobs: [] })),
    secretsManager: () =>
      probes.secretsManager.send(new DescribeSecretCommand({ SecretId: probes.signingKeySecretArn })),
    logs: async () => {
      // A stream that does not exist must be named as such: the stand-in is up and answering.
      const asked = probes.logs.send(
        new GetLogEventsCommand({ logGroupName: 'health', logStreamName: 'probe' }),
      );
      await asked.then(
        () => {
          throw new Error('a stream that does not exist was answered');
        },
        (err: Error) => {
          if (!(err instanceof ResourceNotFoundException)) throw err;
        },
      );
    },
    codepipeline: async () => {
      // An execution that does not exist must be named as such: the stand-in is up and answering.
      const response = await fetch(probes.urls.codepipeline, {
        method: 'POST',
        signal: AbortSignal.timeout(2000),
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'CodePipeline_20150709.GetPipelineExecution',
          authorization: `AWS4-HMAC-SHA256 Credential=${probes.operatorAccessKeyId}/19700101/local/codepipeline/aws4_request, SignedHeaders=host, Signature=0`,
        },
        body: JSON.stringify({ pipelineName: probes.buildPipelineName, pipelineExecutionId: 'health-probe' }),
      });
      const answer = (await response.json()) as { __type?: string };
      if (answer.__type !== 'PipelineExecutionNotFoundException') {
        throw new Error(`an execution that does not exist was answered ${response.status} ${answer.__type}`);
      }
    },
    cloudfront: async () => {
      // An unsigned request must be refused: 403 proves the stand-in is up and enforcing signatures.
      const response = await fetch(`${probes.urls.cloudfront}/health-probe`, {
        signal: AbortSignal.timeout(2000),
      });
      await response.arrayBuffer();
      if (response.status !== 403)
        throw new Error(`unsigned request answered ${response.status}, expected 403`);
    },
  };
  const entries = await Promise.all(
    Object.entries(checks).map(async ([service, check]) => {
      const started = performance.now();
      const url = probes.urls[service as keyof typeof checks];
      try {
        await check();
        return [service, { ok: true, url, latencyMs: Math.round(performance.now() - started) }] as const;
      } catch (err) {
        const latencyMs = Math.round(performance.now() - started);
        return [service, { ok: false, url, latencyMs, error: (err as Error).message }] as const;
      }
    }),
  );
  return Object.fromEntries(entries);
}
