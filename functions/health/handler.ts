import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { QUEUES } from '../../lib/definitions/resources';
import { documentClient, sqsClient } from '../shared/aws';
import { appVersion, dlqUrl, queueUrl, tableName } from '../shared/config';
import { httpHandler, json } from '../shared/http';
import { logger } from '../shared/observability';
import { type CheckOutcome, type CheckResult, httpStatusFor, overallStatus, runCheck } from './checks';

const CHECK_TIMEOUT_MS = 1_000;

/** Writes a probe item and reads it back: proves both paths of the database. */
async function databaseCheck(signal: AbortSignal): Promise<CheckOutcome> {
  const token = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const TableName = tableName('system');
  const Key = { pk: 'HEALTH', sk: 'PROBE' };
  await documentClient().send(
    new PutCommand({ TableName, Item: { ...Key, token, expires_at: Math.floor(Date.now() / 1000) + 3600 } }),
    { abortSignal: signal },
  );
  const read = await documentClient().send(new GetCommand({ TableName, Key, ConsistentRead: true }), {
    abortSignal: signal,
  });
  if (read.Item?.token !== token) throw new Error('probe read back a different value');
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
async function queuesCheck(signal: AbortSignal): Promise<CheckOutcome> {
  const notes: string[] = [];
  for (const queue of QUEUES) {
    await depth(queueUrl(queue.id), signal);
    const dead = await depth(dlqUrl(queue.id), signal);
    if (dead > 0) notes.push(`${queue.id} dead-letter queue holds ${dead} message(s)`);
  }
  return notes.length ? { status: 'warn', detail: notes.join('; ') } : { status: 'pass' };
}

const logFailure = (check: string) => (error: unknown) =>
  logger.error('Health check failed', { check, error });

export const handler = httpHandler('health', {
  'GET /health': async () => {
    const [database, queues] = await Promise.all([
      runCheck(databaseCheck, CHECK_TIMEOUT_MS, undefined, logFailure('database')),
      runCheck(queuesCheck, CHECK_TIMEOUT_MS, undefined, logFailure('queues')),
    ]);
    const checks: Record<string, CheckResult> = { database, queues };
    const status = overallStatus(checks);
    return json(httpStatusFor(status), {
      status,
      timestamp: new Date().toISOString(),
      version: appVersion(),
      checks,
    });
  },
});
