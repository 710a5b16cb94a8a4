import { type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { tableDefinition } from '../../../../contract/resources';
import { dynamoClient } from '../aws/clients';
import { ConfigurationError, stage } from '../config/resources';
import { WINDOW_SECONDS } from './limits';

/** Counts requests per key and window: one atomic increment per check. */
export interface CounterStore {
  readonly kind: 'dynamodb' | 'memory';
  increment(key: string, windowStart: number, signal: AbortSignal): Promise<number>;
}

/**
 * The bound on one check when the store is the local emulator (`npm start`, the tests): moto on a
 * laptop under a load test answers in seconds, not in DynamoDB's milliseconds, and a refusal there
 * would show the emulator's latency instead of the system's behaviour. AWS keeps its 300 ms.
 */
export const LOCAL_EMULATOR_STORE_TIMEOUT_MS = 5_000;

/**
 * True when DynamoDB calls go to an emulator on this machine: the endpoint the SDK uses
 * (`AWS_ENDPOINT_URL_DYNAMODB`, else `AWS_ENDPOINT_URL`) is a loopback address, which AWS never is.
 */
export function storeIsLocalEmulator(env: NodeJS.ProcessEnv = process.env): boolean {
  const endpoint = env.AWS_ENDPOINT_URL_DYNAMODB || env.AWS_ENDPOINT_URL;
  if (!endpoint) return false;
  try {
    const host = new URL(endpoint).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host);
  } catch {
    return false;
  }
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
