import { createHmac, timingSafeEqual } from 'node:crypto';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { PurgeQueueCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { functionDefinition } from '../contract/resources';
import { dynamoClient, sqsClient } from '../functions/shared/platform/aws/clients';
import { lambdaContext, loadHandler } from '../local/lambda';
import { prepareTenant } from './load/tenant';
import { proxyEvent, shopifyOrder } from './load/webhooks';
import { AwsCallRecorder, sequentialRoundTrips } from './support/aws-calls';
import { onApiBench } from './support/local';
import { percentile } from './support/stats';

/**
 * The least an ingest must do, written bare: verify the HMAC on the raw body, count the delivery
 * against its source in the rate-limit table (a verified delivery never counts against its IP),
 * send one SQS message.
 * No routing, no middleware, no logging, no metrics: the floor the product is compared with.
 */
function floorHandler(secret: string, table: string, queueUrl: string) {
  const key = Buffer.from(secret, 'utf8');
  const increment = (pk: string) =>
    dynamoClient().send(
      new UpdateItemCommand({
        TableName: table,
        Key: { pk: { S: pk } },
        UpdateExpression: 'ADD #count :one SET expires_at = if_not_exists(expires_at, :expires)',
        ExpressionAttributeNames: { '#count': 'count' },
        ExpressionAttributeValues: { ':one': { N: '1' }, ':expires': { N: '9999999999' } },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const body = Buffer.from(event.body ?? '', 'base64');
    const expected = createHmac('sha256', key).update(body).digest();
    const given = Buffer.from(event.headers['X-Shopify-Hmac-Sha256'] ?? '', 'base64');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return { statusCode: 401, body: '' };
    }
    const window = Math.floor(Date.now() / 3_600_000);
    await increment(`floor-source#${event.headers['X-Shopify-Shop-Domain']}#${window}`);
    await sqsClient().send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body.toString('utf8') }),
    );
    return { statusCode: 202, body: '' };
  };
}

interface Figures {
  p50: number;
  p95: number;
  /** DynamoDB and SQS calls per request, and how many of them were sequential round trips. */
  calls: number;
  roundTrips: number;
}

export interface IngestBenchResult {
  iterations: number;
  bodyBytes: number;
  /** Added to every AWS call, standing for the in-region network round trip. */
  rttMs: number;
  product: Figures;
  floor: Figures;
  ratio: { p50: number; p95: number };
}

/**
 * The product's ingest handler against the floor, side by side on the same emulator, in one
 * process, interleaved request by request so both see the same machine. Shopify orders of the
 * fixture's size (4.6 KB), each unique and signed.
 */
export async function benchIngest(
  iterations = 300,
  rtts: readonly number[] = [0, 5],
): Promise<IngestBenchResult[]> {
  return onApiBench('Ingest bench', {}, async ({ stack, apiKey }) => {
    const tenant = await prepareTenant(stack.url, apiKey, `ib${Date.now().toString(36)}`);
    const queueUrl = stack.env.WEBHOOKS_QUEUE_URL as string;
    const product = (await loadHandler('ingest')) as (
      event: APIGatewayProxyEvent,
      context: Context,
    ) => Promise<APIGatewayProxyResult>;
    const floor = floorHandler(tenant.shopify.secret, stack.env.RATE_LIMIT_TABLE as string, queueUrl);
    const resource = '/api/v1/shopify/webhook';
    const recorder = new AwsCallRecorder().install();
    const results: IngestBenchResult[] = [];
    for (const rttMs of rtts) {
      recorder.delayMs = rttMs;
      results.push(await measure(rttMs));
    }
    return results;

    async function measure(rttMs: number): Promise<IngestBenchResult> {
      const times = { product: [] as number[], floor: [] as number[] };
      const trips = { product: [] as number[], floor: [] as number[] };
      const calls = { product: [] as number[], floor: [] as number[] };
      let bodyBytes = 0;
      const warmUp = 30;
      for (let i = 0; i < iterations + warmUp; i++) {
        if (i % 200 === 0) await sqsClient().send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
        const request = shopifyOrder(tenant.shopify, i, `bench${rttMs}`);
        bodyBytes = Buffer.byteLength(request.body);
        const event = proxyEvent(request, resource, { requestId: `bench-${i}`, sourceIp: '198.51.100.7' });
        const order: Array<'product' | 'floor'> = i % 2 === 0 ? ['product', 'floor'] : ['floor', 'product'];
        for (const which of order) {
          const context = lambdaContext(functionDefinition('ingest'), 'us-east-1');
          recorder.take();
          const started = performance.now();
          const result = which === 'product' ? await product(event, context) : await floor(event);
          const elapsed = performance.now() - started;
          const made = recorder.take();
          if (result.statusCode !== 202)
            throw new Error(`${which} ingest answered ${result.statusCode}: ${result.body}`);
          if (i >= warmUp) {
            times[which].push(elapsed);
            trips[which].push(sequentialRoundTrips(made));
            calls[which].push(made.length);
          }
        }
      }
      const figures = (which: 'product' | 'floor'): Figures => ({
        p50: percentile(times[which], 50),
        p95: percentile(times[which], 95),
        calls: percentile(calls[which], 50),
        roundTrips: percentile(trips[which], 50),
      });
      const productF = figures('product');
      const floorF = figures('floor');
      return {
        iterations,
        bodyBytes,
        rttMs,
        product: productF,
        floor: floorF,
        ratio: { p50: productF.p50 / floorF.p50, p95: productF.p95 / floorF.p95 },
      };
    }
  });
}

export function printIngest(results: readonly IngestBenchResult[]): void {
  for (const result of results) printOne(result);
}

function printOne(result: IngestBenchResult): void {
  const ms = (x: number) => `${x.toFixed(2)} ms`;
  console.log(
    `${result.iterations} signed Shopify orders of ${(result.bodyBytes / 1024).toFixed(1)} KB each, interleaved, moto on loopback` +
      (result.rttMs ? ` + ${result.rttMs} ms per AWS call (in-region round trip)` : ' (no added round trip)'),
  );
  const line = (name: string, f: Figures) =>
    console.log(
      `${name} p50 ${ms(f.p50)}, p95 ${ms(f.p95)}; ${f.calls} AWS calls, ${f.roundTrips} sequential round trips`,
    );
  line('product ingest:', result.product);
  line('floor:         ', result.floor);
  const verdict = (r: number) => (r <= 1.2 ? 'within 1.2×' : 'OVER 1.2×');
  console.log(
    `ratio product / floor: p50 ${result.ratio.p50.toFixed(2)}× (${verdict(result.ratio.p50)}), p95 ${result.ratio.p95.toFixed(2)}× (${verdict(result.ratio.p95)})`,
  );
}
