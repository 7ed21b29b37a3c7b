import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { UPLOAD_ENDPOINT } from '../contracts/upload-limits';

/**
 * AWS SDK clients, each created once per container on first use. Endpoints come from the
 * standard AWS_ENDPOINT_URL_<SERVICE> variables, which local mode points at loopback.
 */
let documentClient: DynamoDBDocumentClient | undefined;
let s3Client: S3Client | undefined;
let s3PresigningClient: S3Client | undefined;

export function dynamoDb(): DynamoDBDocumentClient {
  documentClient ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return documentClient;
}

function newS3Client(accelerate: boolean): S3Client {
  const customEndpoint = Boolean(process.env.AWS_ENDPOINT_URL_S3);
  return new S3Client({
    // A custom endpoint (local mode) serves buckets by path and cannot be accelerated.
    forcePathStyle: customEndpoint,
    useAccelerateEndpoint: accelerate && !customEndpoint,
    // Checksums only where S3 requires them: presigned part URLs must not carry a checksum of an
    // empty body, and streamed bodies must not be stored with chunk framing.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** For the function's own calls to S3. */
export function s3(): S3Client {
  s3Client ??= newS3Client(false);
  return s3Client;
}

/** For URLs handed to uploaders: the Transfer Acceleration endpoint where the bucket has it. */
export function s3ForUploaders(): S3Client {
  s3PresigningClient ??= newS3Client(UPLOAD_ENDPOINT.read().s3Accelerate);
  return s3PresigningClient;
}

const regionalClients = new Map<unknown, Map<string, unknown>>();

/** A client of `kind` for another region (a viewer region's fleet or parameter), one per region and kind. */
export function regionalClient<C>(kind: new (config: { region: string }) => C, region: string): C {
  let byRegion = regionalClients.get(kind);
  if (!byRegion) regionalClients.set(kind, (byRegion = new Map()));
  let client = byRegion.get(region) as C | undefined;
  if (!client) byRegion.set(region, (client = new kind({ region })));
  return client;
}
