import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DomainError } from '../../functions/shared/platform/errors/domain';
import { errorResult } from '../../functions/shared/platform/http/handler';
import { DynamoCounterStore } from '../../functions/shared/platform/rate-limit/dynamo';
import { RateLimiter } from '../../functions/shared/platform/rate-limit/limiter';
import { bootstrap } from '../../local/bootstrap';
import { startEmulator } from '../../local/emulator';
import { emulatorUrl, freshResources } from '../support/emulator';

const client = (endpoint: string) =>
  new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 't', secretAccessKey: 't' },
    maxAttempts: 1,
  });

async function status(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (error) {
    if (error instanceof DomainError) return errorResult(error, 'req').statusCode;
    throw error;
  }
}

describe('rate limiter on DynamoDB', () => {
  let env: Record<string, string>;
  beforeAll(async () => {
    env = await freshResources({ RATE_LIMIT_IP_PER_HOUR: '100' });
  });

  it('admits exactly 100 of 200 parallel requests against a limit of 100', async () => {
    const dynamo = client(emulatorUrl());
    // A generous bound: this test is about atomicity under contention, not latency.
    const limiter = new RateLimiter(
      () => new DynamoCounterStore(env.RATE_LIMIT_TABLE as string, dynamo),
      Date.now,
      20_000,
    );
    const results = await Promise.all(Array.from({ length: 200 }, () => limiter.check('ip', '198.51.100.7')));
    expect(results.filter((r) => r.allowed)).toHaveLength(100);
    expect(results.map((r) => r.count).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
    dynamo.destroy();
  });

  it('starts counting again when the window resets, and keeps IPs apart', async () => {
    let now = Date.UTC(2026, 10, 25, 10, 30, 0);
    const dynamo = client(emulatorUrl());
    const limiter = new RateLimiter(
      () => new DynamoCounterStore(env.RATE_LIMIT_TABLE as string, dynamo),
      () => now,
      5_000,
    );
    process.env.RATE_LIMIT_IP_PER_HOUR = '3';
    try {
      for (let i = 1; i <= 3; i++) expect((await limiter.check('ip', '192.0.2.1')).allowed).toBe(true);
      const refused = await limiter.check('ip', '192.0.2.1');
      expect(refused).toMatchObject({ allowed: false, count: 4, reset: Date.UTC(2026, 10, 25, 11) / 1000 });
      expect((await limiter.check('ip', '192.0.2.2')).allowed).toBe(true);
      now = Date.UTC(2026, 10, 25, 11, 0, 1);
      expect(await limiter.check('ip', '192.0.2.1')).toMatchObject({ allowed: true, count: 1 });
    } finally {
      process.env.RATE_LIMIT_IP_PER_HOUR = '100';
      dynamo.destroy();
    }
  });

  it('fails closed when the table does not exist', async () => {
    const dynamo = client(emulatorUrl());
    const limiter = new RateLimiter(() => new DynamoCounterStore('no-such-table', dynamo));
    expect(await status(limiter.check('ip', 'x'))).toBe(503);
    dynamo.destroy();
  });

  it('fails closed when the emulator stops mid-test', async () => {
    const own = await startEmulator({ root: path.resolve(__dirname, '..', '..') });
    const ownEnv = await bootstrap({ endpoint: own.url, region: 'us-east-1', prefix: 'stopme' });
    const dynamo = client(own.url);
    const limiter = new RateLimiter(() => new DynamoCounterStore(ownEnv.RATE_LIMIT_TABLE as string, dynamo));
    try {
      expect(await status(limiter.check('ip', 'x'))).toBe(200);
      await own.stop();
      expect(await status(limiter.check('ip', 'x'))).toBe(503);
    } finally {
      await own.stop();
      dynamo.destroy();
    }
  });

  it('fails closed within its bound when the store accepts but never answers', async () => {
    const sockets: Array<import('node:net').Socket> = [];
    const server: Server = createServer((socket) => {
      sockets.push(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const dynamo = client(`http://127.0.0.1:${port}`);
    const limiter = new RateLimiter(() => new DynamoCounterStore('t', dynamo));
    try {
      expect(await status(limiter.check('ip', 'x'))).toBe(503);
    } finally {
      dynamo.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
