import { AsyncLocalStorage } from 'node:async_hooks';
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { COMMON_ENV_VARS, QUEUES, TABLES } from '../../../../contract/resources';

/**
 * The local run mode's record of every AWS call each function makes: which function (the local
 * runner names it around each invocation), the IAM action, the resource by its name in the shared
 * resource list (`table:leads/index/gsi1`, `queue:webhooks`, `dlq:webhooks`, `secret:jwtSecret`,
 * `key:data`, `bucket:backup/<object key>`) and, for KMS, the encryption context. Written as JSON
 * lines to a file per process in AWS_CALL_RECORD_DIR, each distinct call once; a test replays the
 * record against the functions' policies in the synthesized template. Off unless the directory is
 * set, and never in AWS (the stack does not set it).
 */
export const AWS_CALL_RECORD_ENV = 'AWS_CALL_RECORD_DIR';

export interface RecordedCall {
  function: string;
  action: string;
  resource: string;
  context?: Record<string, string>;
}

const running = new AsyncLocalStorage<string>();

/** Runs an invocation of function `id`: the AWS calls it makes are recorded under its name. */
export function asFunction<T>(id: string, run: () => T): T {
  return running.run(id, run);
}

/** The function whose invocation is running, if any. */
export function runningFunction(): string | undefined {
  return running.getStore();
}

const SECRETS: Record<string, string> = {
  [COMMON_ENV_VARS.jwtSecretArn]: 'jwtSecret',
  [COMMON_ENV_VARS.emailHashKeyArn]: 'emailHashKey',
  [COMMON_ENV_VARS.stripeWebhookSecretArn]: 'stripeWebhookSecret',
  [COMMON_ENV_VARS.stripeApiKeyArn]: 'stripeApiKey',
  [COMMON_ENV_VARS.googleAdsDeveloperTokenArn]: 'googleAdsDeveloperToken',
};

function table(name: unknown, index?: unknown): string {
  const found = TABLES.find((t) => process.env[t.envVar] === name);
  const base = `table:${found?.id ?? `unknown(${String(name)})`}`;
  return typeof index === 'string' ? `${base}/index/${index}` : base;
}

function queue(url: unknown): string {
  for (const q of QUEUES) {
    if (process.env[q.envVar] === url) return `queue:${q.id}`;
    if (process.env[q.dlqEnvVar] === url) return `dlq:${q.id}`;
  }
  return `queue:unknown(${String(url)})`;
}

function secret(id: unknown): string {
  for (const [envVar, name] of Object.entries(SECRETS)) {
    if (process.env[envVar] && process.env[envVar] === id) return `secret:${name}`;
  }
  return `secret:unknown(${String(id)})`;
}

function key(id: unknown): string {
  const known = [process.env[COMMON_ENV_VARS.kmsKeyId], process.env[COMMON_ENV_VARS.backupKmsKeyId]];
  return typeof id === 'string' && known.some((k) => k && (id === k || k.endsWith(id) || id.endsWith(k)))
    ? 'key:data'
    : `key:unknown(${String(id)})`;
}

const TRANSACT_ACTIONS: Record<string, string> = {
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  ConditionCheck: 'ConditionCheckItem',
  Get: 'GetItem',
};

/** The calls one command stands for, as IAM sees them (a transaction is one call per item). */
export function callsOf(
  service: string,
  command: string,
  input: Record<string, unknown>,
): Omit<RecordedCall, 'function'>[] {
  const name = command.replace(/Command$/, '');
  const action = `${service}:${name}`;
  switch (service) {
    case 'dynamodb': {
      if (name === 'TransactWriteItems' || name === 'TransactGetItems') {
        return ((input.TransactItems ?? []) as Record<string, { TableName?: string }>[]).flatMap((item) =>
          Object.entries(item).map(([kind, op]) => ({
            action: `dynamodb:${TRANSACT_ACTIONS[kind] ?? kind}`,
            resource: table(op.TableName),
          })),
        );
      }
      if (name === 'BatchWriteItem' || name === 'BatchGetItem') {
        return Object.keys((input.RequestItems ?? {}) as object).map((t) => ({ action, resource: table(t) }));
      }
      return [{ action, resource: table(input.TableName, input.IndexName) }];
    }
    case 'sqs':
      return [{ action, resource: queue(input.QueueUrl) }];
    case 'secretsmanager':
      return [{ action, resource: secret(input.SecretId) }];
    case 'kms': {
      const context = input.EncryptionContext as Record<string, string> | undefined;
      return [{ action, resource: key(input.KeyId), ...(context ? { context: { ...context } } : {}) }];
    }
    case 's3': {
      const bucket =
        input.Bucket === process.env[COMMON_ENV_VARS.backupBucket]
          ? 'backup'
          : `unknown(${String(input.Bucket)})`;
      return [
        { action, resource: `bucket:${bucket}${typeof input.Key === 'string' ? `/${input.Key}` : ''}` },
      ];
    }
    default:
      return [{ action, resource: 'unknown' }];
  }
}

const written = new Set<string>();

/** An initialize-step middleware of the AWS SDK v3, as far as recording needs it. */
type Next = (args: { input: object }) => Promise<unknown>;
export type RecordingMiddleware = (next: Next, context: { commandName?: string }) => Next;

/** The middleware that records a client's calls, when AWS_CALL_RECORD_DIR is set. */
export function recordingMiddleware(service: string): RecordingMiddleware | undefined {
  const dir = process.env[AWS_CALL_RECORD_ENV];
  if (!dir) return undefined;
  const file = path.join(dir, `calls-${process.pid}.jsonl`);
  return (next, context) => async (args) => {
    const fn = runningFunction();
    if (fn) {
      for (const call of callsOf(
        service,
        String(context.commandName),
        args.input as Record<string, unknown>,
      )) {
        const line = JSON.stringify({ function: fn, ...call });
        if (!written.has(line)) {
          written.add(line);
          mkdirSync(dir, { recursive: true });
          appendFileSync(file, `${line}\n`);
        }
      }
    }
    return next(args);
  };
}
