import { type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { tableDefinition } from '../../../lib/definitions/resources';
import { dynamoClient } from '../aws';
import { ConfigurationError, stage } from '../config';
import { WINDOW_SECONDS } from './limits';

/** Counts requests per key and window: one atomic increment per check. */
export interface CounterStore {
  readonly kind: 'dynamodb' | 'memory';
  increment(key: string, windowStart: number, signal: AbortSignal): Promise<number>;
}

/** Counters outlive their window by this much before DynamoDB's TTL removes them. */
const GRACE_SECONDS = 300;

export class DynamoCounterStore implements CounterStore {
  readonly kind = 'dynamodb';
  constructor(
    private readonly table: string,
    private readonly client: DynamoDBClient = dynamoClient(),
  ) {}

  async increment(key: string, windowStart: number, signal: AbortSignal): Promise<number> {
    const out = await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: { pk: { S: `${key}#${windowStart}` } },
        UpdateExpression: 'ADD #count :one SET expires_at = if_not_exists(expires_at, :expires)',
        ExpressionAttributeNames: { '#count': 'count' },
        ExpressionAttributeValues: {
          ':one': { N: '1' },
          ':expires': { N: String(windowStart + WINDOW_SECONDS + GRACE_SECONDS) },
        },
        ReturnValues: 'UPDATED_NEW',
      }),
      { abortSignal: signal },
    );
    const count = Number(out.Attributes?.count?.N);
    if (!Number.isInteger(count)) throw new Error('counter update returned no count');
    return count;
  }
}

/** Development only: counters in this process's memory, lost on restart, not shared. */
export class MemoryCounterStore implements CounterStore {
  readonly kind = 'memory';
  private readonly counts = new Map<string, number>();

  async increment(key: string, windowStart: number, _signal?: AbortSignal): Promise<number> {
    const id = `${key}#${windowStart}`;
    for (const existing of this.counts.keys()) {
      if (!existing.endsWith(`#${windowStart}`)) this.counts.delete(existing);
    }
    const next = (this.counts.get(id) ?? 0) + 1;
    this.counts.set(id, next);
    return next;
  }
}

/**
 * The store the environment asks for. `RATE_LIMIT_STORE=memory` only in the `dev` stage; any
 * other stage refuses it. Without a table the limiter cannot work, and says so.
 */
export function counterStoreFromEnv(env: NodeJS.ProcessEnv = process.env): CounterStore {
  const kind = env.RATE_LIMIT_STORE ?? 'dynamodb';
  if (kind === 'memory') {
    if (stage() !== 'dev') {
      throw new ConfigurationError(
        `RATE_LIMIT_STORE=memory is for the dev stage only; stage ${stage()} needs the DynamoDB rate-limit table`,
      );
    }
    return new MemoryCounterStore();
  }
  if (kind !== 'dynamodb')
    throw new ConfigurationError(`RATE_LIMIT_STORE must be dynamodb or memory, not ${kind}`);
  const table = env[tableDefinition('rateLimits').envVar];
  if (!table) throw new ConfigurationError(`${tableDefinition('rateLimits').envVar} is not set`);
  return new DynamoCounterStore(table);
}
