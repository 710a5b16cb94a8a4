import { randomBytes } from 'node:crypto';
import {
  type AttributeDefinition,
  CreateTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateAliasCommand, CreateKeyCommand, KMSClient, ListAliasesCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  COMMON_ENV_VARS,
  QUEUES,
  type QueueDefinition,
  TABLES,
  type TableDefinition,
  visibilityTimeoutSeconds,
} from '../contract/resources';

/**
 * Creates, in the emulator, every table, queue, key, bucket and secret of the shared resource
 * list, the way the CDK stack creates them in AWS, and returns the environment the functions
 * need to find them. Safe to run again on an emulator that already has them.
 */
export interface BootstrapOptions {
  endpoint: string;
  region: string;
  prefix: string;
  /** The JWT secret to store when the secret is created; a random one when absent. */
  jwtSecret?: string;
  /** The Stripe key to store when the secret is created; the local fake's key when absent. */
  stripeApiKey?: string;
}

/** The key the local Stripe fake accepts (`local/fake-stripe.ts`). */
export const LOCAL_STRIPE_API_KEY = 'sk_test_local_fake';

const DAY = 24 * 3600;

function clientConfig(options: BootstrapOptions) {
  return {
    endpoint: options.endpoint,
    region: options.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
}

export function createTableInput(table: TableDefinition, name: string) {
  const attributes = new Set<string>([table.partitionKey]);
  if (table.sortKey) attributes.add(table.sortKey);
  for (const index of table.indexes) {
    attributes.add(index.partitionKey);
    if (index.sortKey) attributes.add(index.sortKey);
  }
  const AttributeDefinitions: AttributeDefinition[] = [...attributes].map((AttributeName) => ({
    AttributeName,
    AttributeType: 'S',
  }));
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions,
    KeySchema: [
      { AttributeName: table.partitionKey, KeyType: 'HASH' as const },
      ...(table.sortKey ? [{ AttributeName: table.sortKey, KeyType: 'RANGE' as const }] : []),
    ],
    ...(table.indexes.length
      ? {
          GlobalSecondaryIndexes: table.indexes.map((index) => ({
            IndexName: index.name,
            KeySchema: [
              { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
              ...(index.sortKey ? [{ AttributeName: index.sortKey, KeyType: 'RANGE' as const }] : []),
            ],
            Projection: { ProjectionType: 'ALL' as const },
          })),
        }
      : {}),
  };
}

async function createTables(options: BootstrapOptions, env: Record<string, string>): Promise<void> {
  const dynamo = new DynamoDBClient(clientConfig(options));
  try {
    for (const table of TABLES) {
      const name = `${options.prefix}-${table.id}`;
      try {
        await dynamo.send(new CreateTableCommand(createTableInput(table, name)));
        if (table.ttlAttribute) {
          await dynamo.send(
            new UpdateTimeToLiveCommand({
              TableName: name,
              TimeToLiveSpecification: { AttributeName: table.ttlAttribute, Enabled: true },
            }),
          );
        }
      } catch (error) {
        if (!(error instanceof ResourceInUseException)) throw error;
      }
      env[table.envVar] = name;
    }
  } finally {
    dynamo.destroy();
  }
}

async function createQueue(sqs: SQSClient, queue: QueueDefinition, prefix: string) {
  const dlq = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${prefix}-${queue.id}-dlq`,
      Attributes: { MessageRetentionPeriod: String(queue.dlqRetentionDays * DAY) },
    }),
  );
  const dlqAttrs = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const main = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${prefix}-${queue.id}`,
      Attributes: {
        MessageRetentionPeriod: String(queue.retentionDays * DAY),
        VisibilityTimeout: String(visibilityTimeoutSeconds(queue)),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqAttrs.Attributes?.QueueArn,
          maxReceiveCount: queue.maxReceiveCount,
        }),
      },
    }),
  );
  if (!main.QueueUrl || !dlq.QueueUrl) throw new Error(`queue ${queue.id} was not created`);
  return { url: main.QueueUrl, dlqUrl: dlq.QueueUrl };
}

async function createQueues(options: BootstrapOptions, env: Record<string, string>): Promise<void> {
  const sqs = new SQSClient(clientConfig(options));
  try {
    for (const queue of QUEUES) {
      const { url, dlqUrl } = await createQueue(sqs, queue, options.prefix);
      env[queue.envVar] = url;
      env[queue.dlqEnvVar] = dlqUrl;
    }
  } finally {
    sqs.destroy();
  }
}

async function createKey(options: BootstrapOptions): Promise<string> {
  const kms = new KMSClient(clientConfig(options));
  const alias = `alias/${options.prefix}`;
  try {
    const aliases = await kms.send(new ListAliasesCommand({}));
    const existing = aliases.Aliases?.find((a) => a.AliasName === alias)?.TargetKeyId;
    if (existing) return existing;
    const key = await kms.send(new CreateKeyCommand({ Description: `${options.prefix} data key` }));
    const keyId = key.KeyMetadata?.KeyId;
    if (!keyId) throw new Error('KMS key was not created');
    await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyId }));
    return keyId;
  } finally {
    kms.destroy();
  }
}

async function createBucket(options: BootstrapOptions): Promise<string> {
  const s3 = new S3Client({ ...clientConfig(options), forcePathStyle: true });
  const name = `${options.prefix}-backups`;
  try {
    await s3.send(new CreateBucketCommand({ Bucket: name }));
  } catch (error) {
    const code = (error as { name?: string }).name;
    if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw error;
  } finally {
    s3.destroy();
  }
  return name;
}

/** A generated secret, created once; an existing one is kept as it is. */
async function createSecret(
  options: BootstrapOptions,
  name: string,
  value?: string,
): Promise<{ arn: string }> {
  const sm = new SecretsManagerClient(clientConfig(options));
  const id = `${options.prefix}/${name}`;
  try {
    try {
      const existing = await sm.send(new GetSecretValueCommand({ SecretId: id }));
      if (existing.ARN) return { arn: existing.ARN };
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
    const created = await sm.send(
      new CreateSecretCommand({ Name: id, SecretString: value ?? randomBytes(48).toString('base64url') }),
    );
    if (!created.ARN) throw new Error(`secret ${id} was not created`);
    return { arn: created.ARN };
  } finally {
    sm.destroy();
  }
}

export async function bootstrap(options: BootstrapOptions): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  await createTables(options, env);
  await createQueues(options, env);
  const keyId = await createKey(options);
  env[COMMON_ENV_VARS.kmsKeyId] = keyId;
  env[COMMON_ENV_VARS.backupKmsKeyId] = keyId;
  env[COMMON_ENV_VARS.backupBucket] = await createBucket(options);
  env[COMMON_ENV_VARS.jwtSecretArn] = (await createSecret(options, 'jwt-secret', options.jwtSecret)).arn;
  env[COMMON_ENV_VARS.emailHashKeyArn] = (await createSecret(options, 'email-hash-key')).arn;
  env[COMMON_ENV_VARS.stripeWebhookSecretArn] = (await createSecret(options, 'stripe-webhook-secret')).arn;
  env[COMMON_ENV_VARS.stripeApiKeyArn] = (
    await createSecret(options, 'stripe-api-key', options.stripeApiKey ?? LOCAL_STRIPE_API_KEY)
  ).arn;
  return env;
}
