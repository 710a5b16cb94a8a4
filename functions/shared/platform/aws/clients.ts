import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { recordingMiddleware } from './recording';

/**
 * Shared AWS clients, created on first use so they pick up the environment of the process
 * (`AWS_ENDPOINT_URL` for the emulator, `AWS_REGION`). Timeouts are bounded: a slow dependency
 * must not eat a function's whole timeout.
 */
const baseConfig = () => ({
  region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000 },
});

/** In the local run mode with AWS_CALL_RECORD_DIR set, every call of the client is recorded. */
function recorded<C extends { middlewareStack: { add: (...args: never[]) => void } }>(
  client: C,
  service: string,
): C {
  const middleware = recordingMiddleware(service);
  if (middleware) {
    (client.middlewareStack.add as (m: unknown, o: unknown) => void)(middleware, {
      step: 'initialize',
      name: 'recordAwsCall',
    });
  }
  return client;
}

let dynamo: DynamoDBClient | undefined;
let documents: DynamoDBDocumentClient | undefined;
let sqs: SQSClient | undefined;
let secrets: SecretsManagerClient | undefined;
let kms: KMSClient | undefined;
let s3: S3Client | undefined;

export function dynamoClient(): DynamoDBClient {
  dynamo ??= recorded(new DynamoDBClient(baseConfig()), 'dynamodb');
  return dynamo;
}

export function documentClient(): DynamoDBDocumentClient {
  documents ??= DynamoDBDocumentClient.from(dynamoClient(), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return documents;
}

export function sqsClient(): SQSClient {
  sqs ??= recorded(new SQSClient(baseConfig()), 'sqs');
  return sqs;
}

export function secretsClient(): SecretsManagerClient {
  secrets ??= recorded(new SecretsManagerClient(baseConfig()), 'secretsmanager');
  return secrets;
}

export function kmsClient(): KMSClient {
  kms ??= recorded(new KMSClient(baseConfig()), 'kms');
  return kms;
}

/**
 * S3 for backup objects. A part upload carries megabytes, so its request timeout is longer than
 * the other clients'. Path-style addressing against an emulator (no bucket subdomains there).
 */
export function s3Client(): S3Client {
  s3 ??= recorded(
    new S3Client({
      ...baseConfig(),
      requestHandler: { connectionTimeout: 1_000, requestTimeout: 60_000 },
      forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL),
    }),
    's3',
  );
  return s3;
}

/** Forget cached clients (the local runner and tests point them at a new emulator). */
export function resetClients(): void {
  dynamo?.destroy();
  sqs?.destroy();
  secrets?.destroy();
  kms?.destroy();
  s3?.destroy();
  secrets = undefined;
  kms = undefined;
  s3 = undefined;
  dynamo = undefined;
  documents = undefined;
  sqs = undefined;
}
