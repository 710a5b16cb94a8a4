import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoCounterStore } from '../functions/shared/platform/rate-limit/dynamo';
import { RateLimiter } from '../functions/shared/platform/rate-limit/limiter';
import { bootstrap } from '../local/bootstrap';
import { startEmulator } from '../local/emulator';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** DynamoDB calls per rate-limit check, and the latency a check adds, against the emulator. */
export async function benchRateLimit(checks = 300): Promise<void> {
  const emulator = await startEmulator({ root: path.resolve(__dirname, '..') });
  try {
    const env = await bootstrap({ endpoint: emulator.url, region: 'us-east-1', prefix: 'bench' });
    const client = new DynamoDBClient({
      endpoint: emulator.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    });
    let calls = 0;
    client.middlewareStack.add(
      (next) => async (args) => {
        calls += 1;
        return next(args);
      },
      { step: 'initialize', name: 'countCalls' },
    );
    const limiter = new RateLimiter(() => new DynamoCounterStore(env.RATE_LIMIT_TABLE as string, client));
    await limiter.check('ip', 'warm-up');
    calls = 0;
    const latencies: number[] = [];
    for (let i = 0; i < checks; i++) {
      const started = performance.now();
      await limiter.check('ip', `198.51.100.${i % 50}`);
      latencies.push(performance.now() - started);
    }
    console.log(
      `checks: ${checks}, DynamoDB calls: ${calls}, calls per check: ${(calls / checks).toFixed(2)}`,
    );
    console.log(
      `added latency per check (moto on loopback): p50 ${percentile(latencies, 50).toFixed(1)} ms, ` +
        `p95 ${percentile(latencies, 95).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`,
    );
    client.destroy();
  } finally {
    await emulator.stop();
  }
}
