import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

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

let dynamo: DynamoDBClient | undefined;
let documents: DynamoDBDocumentClient | undefined;
let sqs: SQSClient | undefined;
let secrets: SecretsManagerClient | undefined;

export function dynamoClient(): DynamoDBClient {
  dynamo ??= new DynamoDBClient(baseConfig());
  return dynamo;
}

export function documentClient(): DynamoDBDocumentClient {
  documents ??= DynamoDBDocumentClient.from(dynamoClient(), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return documents;
}

export function sqsClient(): SQSClient {
  sqs ??= new SQSClient(baseConfig());
  return sqs;
}

export function secretsClient(): SecretsManagerClient {
  secrets ??= new SecretsManagerClient(baseConfig());
  return secrets;
}

/** Forget cached clients (the local runner and tests point them at a new emulator). */
export function resetClients(): void {
  dynamo?.destroy();
  sqs?.destroy();
  secrets?.destroy();
  secrets = undefined;
  dynamo = undefined;
  documents = undefined;
  sqs = undefined;
}
