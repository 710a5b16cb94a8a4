import { randomBytes } from 'node:crypto';
import { DecryptCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { COMMON_ENV_VARS, KMS_PURPOSES, QUEUES } from '../../contract/resources';
import { documentClient, kmsClient, sqsClient } from '../shared/platform/aws/clients';
import { PROVIDERS, type Provider } from '../shared/platform/breaker/circuit';
import { type CircuitView, readCircuits } from '../shared/platform/breaker/circuits';
import { dlqUrl, queueUrl, requireEnv, tableName } from '../shared/platform/config/resources';
import { type CheckOutcome, type CheckResult, circuitOutcome, probeWriteDue, runCheck } from './checks';

/** The one item health reads and writes, shared by every instance (system table). */
export const PROBE_KEY = { pk: 'HEALTH', sk: 'PROBE' } as const;

/**
 * Reads the shared probe item, and writes it when its last write is `writeIntervalMs` old or
 * more: reads prove the read path on every run, and the write path is proven at most once per
 * interval across all instances. A conditional write lets only one of several racing instances
 * write; the others' refusal proves the path as well.
 */
export async function databaseProbe(signal: AbortSignal, writeIntervalMs: number): Promise<CheckOutcome> {
  const TableName = tableName('system');
  const read = await documentClient().send(
    new GetCommand({ TableName, Key: PROBE_KEY, ConsistentRead: true }),
    { abortSignal: signal },
  );
  const writtenAt = typeof read.Item?.written_at === 'number' ? read.Item.written_at : undefined;
  const now = Date.now();
  if (!probeWriteDue(writtenAt, now, writeIntervalMs)) return { status: 'pass' };
  try {
    await documentClient().send(
      new PutCommand({
        TableName,
        Item: { ...PROBE_KEY, written_at: now, expires_at: Math.floor(now / 1000) + 86_400 },
        ConditionExpression: 'attribute_not_exists(pk) OR written_at < :stale',
        ExpressionAttributeValues: { ':stale': now - writeIntervalMs },
      }),
      { abortSignal: signal },
    );
  } catch (error) {
    if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
  }
  return { status: 'pass' };
}

/** Encrypts a random value with the stack's key and decrypts it again: the encryption service works. */
export async function encryptionProbe(signal: AbortSignal): Promise<CheckOutcome> {
  const KeyId = requireEnv(COMMON_ENV_VARS.kmsKeyId);
  // Its own context: the only one health's role may encrypt and decrypt under.
  const EncryptionContext = { purpose: KMS_PURPOSES.health, probe: 'encryption' };
  const plaintext = randomBytes(16);
  const sealed = await kmsClient().send(
    new EncryptCommand({ KeyId, Plaintext: plaintext, EncryptionContext }),
    {
      abortSignal: signal,
    },
  );
  const opened = await kmsClient().send(
    new DecryptCommand({ KeyId, CiphertextBlob: sealed.CiphertextBlob, EncryptionContext }),
    { abortSignal: signal },
  );
  if (!opened.Plaintext || !Buffer.from(opened.Plaintext).equals(plaintext)) {
    throw new Error('the key decrypted a different value');
  }
  return { status: 'pass' };
}

async function depth(url: string, signal: AbortSignal): Promise<number> {
  const out = await sqsClient().send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }),
    { abortSignal: signal },
  );
  return Number(out.Attributes?.ApproximateNumberOfMessages ?? 0);
}

/** Every queue answers; a dead-letter queue holding messages degrades the service. */
export async function queuesProbe(signal: AbortSignal): Promise<CheckOutcome> {
  const depths = await Promise.all(
    QUEUES.map(async (queue) => {
      const [, dead] = await Promise.all([
        depth(queueUrl(queue.id), signal),
        depth(dlqUrl(queue.id), signal),
      ]);
      return { id: queue.id, dead };
    }),
  );
  const notes = depths
    .filter((q) => q.dead > 0)
    .map((q) => `${q.id} dead-letter queue holds ${q.dead} message(s)`);
  return notes.length ? { status: 'warn', detail: notes.join('; ') } : { status: 'pass' };
}

/**
 * The external APIs as their shared circuit breakers see them (one consistent read of the system
 * table for all three): an open or half-open circuit degrades, it never fails the service. When
 * the states cannot be read, each is reported unknown (a warning): the database check says why.
 */
export async function externalApiChecks(
  timeoutMs: number,
  onError: (error: unknown) => void,
): Promise<Record<Provider, CheckResult>> {
  let views: Record<Provider, CircuitView> | undefined;
  const read = await runCheck(
    async () => {
      views = await readCircuits();
      return { status: 'pass' };
    },
    timeoutMs,
    undefined,
    onError,
  );
  const out = {} as Record<Provider, CheckResult>;
  for (const provider of PROVIDERS) {
    const view = views?.[provider];
    out[provider] = view
      ? { ...circuitOutcome(view.state, view.last_success_at), latency_ms: read.latency_ms }
      : { status: 'warn', latency_ms: read.latency_ms, detail: 'circuit state could not be read' };
  }
  return out;
}
