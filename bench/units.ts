import { writeSync } from 'node:fs';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, SQSEvent } from 'aws-lambda';
import { type FunctionId, TABLES } from '../contract/resources';
import { invoke } from '../local/lambda';
import { prepareTenant } from './load/tenant';
import { proxyEvent, type SignedRequest, shopifyOrder } from './load/webhooks';
import { AwsCallRecorder } from './support/aws-calls';
import { itemSize, storedBytes, totalUnits, type UnitTotals, unitsOf } from './support/dynamo-units';
import { liftRateLimits, startBenchStack } from './support/local';
import { captureOutput } from './support/output';

export interface StageCost {
  stage: string;
  /** What one unit of this stage is (a webhook, a conversion). */
  per: string;
  count: number;
  readUnitsEach: number;
  writeUnitsEach: number;
  dynamoCallsEach: number;
  sqsCallsEach: number;
  logBytesEach: number;
  logLinesEach: number;
  metricBytesEach: number;
  /** Wall time of the work divided by the count (moto on loopback: an upper bound for AWS). */
  msEach: number;
  byOperation: UnitTotals['byOperation'];
}

/** A Shopify order as the ingest function receives it behind the gateway. */
function apiEvent(request: SignedRequest, n: number): APIGatewayProxyEvent {
  return proxyEvent(request, '/api/v1/shopify/webhook', {
    requestId: `units-${n}`,
    sourceIp: '198.51.100.8',
  });
}

function sqsEvent(messages: Message[]): SQSEvent {
  return {
    Records: messages.map((m) => ({
      messageId: m.MessageId ?? '',
      receiptHandle: m.ReceiptHandle ?? '',
      body: m.Body ?? '',
      attributes: {
        ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
        SentTimestamp: String(Date.now()),
        SenderId: 'bench',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: Object.fromEntries(
        Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [
          k,
          { dataType: v.DataType ?? 'String', ...(v.StringValue ? { stringValue: v.StringValue } : {}) },
        ]),
      ),
      md5OfBody: m.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:bench',
      awsRegion: 'us-east-1',
    })),
  };
}

/**
 * DynamoDB request units, AWS calls and log bytes per webhook through the whole pipeline, with
 * the product's own handlers against the emulator: ingest (warm: its source cached), the webhook
 * worker (a paid Shopify order with a gclid: lead, audit, won, conversion), and the conversion
 * uploader (to the fake Google Ads server). Logs are counted at the production level (INFO).
 */
export type UnitsResult = StageCost[] & {
  /** Bytes billed as stored (items, index entries, 100 bytes each) per webhook through the pipeline. */
  storedBytesPerWebhook: number;
};

export async function benchUnits(count = 20): Promise<UnitsResult> {
  let storedPerWebhook = 0;
  liftRateLimits();
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  const { startFakeGoogleAds } = await import('../local/fake-google-ads');
  const fake = await startFakeGoogleAds();
  Object.assign(process.env, {
    GOOGLE_ADS_API_BASE_URL: fake.baseUrl,
    GOOGLE_DATA_MANAGER_BASE_URL: fake.baseUrl,
    GOOGLE_OAUTH_TOKEN_URL: fake.tokenUrl,
  });
  const output = captureOutput();
  const { stack, newTenant } = await startBenchStack({ consumers: false });
  const sqs = new SQSClient({ endpoint: stack.emulator.url, region: 'us-east-1' });
  const side = new DynamoDBClient({ endpoint: stack.emulator.url, region: 'us-east-1' });
  try {
    const { apiKey } = await newTenant('Units bench');
    const tenant = await prepareTenant(stack.url, apiKey, `u${Date.now().toString(36)}`);
    await fetch(`${stack.url}/api/v1/integrations/google-ads`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${tenant.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        customer_id: '123-456-7890',
        conversion_action_id: '555000111',
        client_id: 'bench.apps.googleusercontent.com',
        client_secret: 'bench-client-secret',
        refresh_token: '1//bench-refresh',
        currency: 'EUR',
        time_zone: 'Europe/Berlin',
      }),
    });
    const recorder = new AwsCallRecorder().install();
    recorder.keepBodies = true;

    const stages: StageCost[] = [];
    /**
     * Runs a stage's work twice, each time over `n` fresh events: first timed, then counted with
     * item images on (every write's items read before and after it through a client of its own,
     * which would otherwise add to the time).
     */
    const measure = async (
      stage: string,
      per: string,
      n: number,
      work: (events: { from: number; to: number }) => Promise<void>,
    ) => {
      recorder.recordImages(undefined);
      const started = performance.now();
      await work({ from: 0, to: n });
      const elapsed = performance.now() - started;
      recorder.recordImages(side);
      recorder.take();
      output.reset();
      await work({ from: n, to: 2 * n });
      recorder.recordImages(undefined);
      const calls = recorder.take();
      const units = totalUnits(calls);
      if (process.env.BENCH_UNITS_DETAIL) {
        for (const c of calls
          .filter((x) => x.service === 'dynamodb')
          .slice(0, Number(process.env.BENCH_UNITS_DETAIL) || 20)) {
          const u = unitsOf(c);
          const body = JSON.parse(c.body ?? '{}') as Record<string, unknown>;
          const what = body.TransactItems
            ? (body.TransactItems as Array<Record<string, { TableName: string }>>)
                .map((a) => `${Object.keys(a)[0]}:${Object.values(a)[0]?.TableName.split('-').pop()}`)
                .join(',')
            : String(body.TableName ?? Object.keys((body.RequestItems as object) ?? {}).join(','))
                .split('-')
                .pop();
          // Item sizes before → after each write (bytes; '-' for no item).
          const sizes = (c.images ?? [])
            .map((i) => `${i.before ? itemSize(i.before) : '-'}→${i.after ? itemSize(i.after) : '-'}`)
            .join(' ');
          writeSync(
            2,
            `${stage}: ${c.operation} ${what} r${u.read} w${u.write}${sizes ? ` [${sizes}]` : ''}${c.failed ? ` failed ${c.failed}` : ''}\n`,
          );
        }
      }
      stages.push({
        stage,
        per,
        count: n,
        readUnitsEach: units.readUnits / n,
        writeUnitsEach: units.writeUnits / n,
        dynamoCallsEach: units.calls / n,
        sqsCallsEach: calls.filter((c) => c.service === 'sqs').length / n,
        logBytesEach: output.logBytes / n,
        logLinesEach: output.logLines / n,
        metricBytesEach: output.metricBytes / n,
        msEach: elapsed / n,
        byOperation: units.byOperation,
      });
    };

    // Warm the ingest function's source cache, as on a warm container.
    await invoke('ingest', apiEvent(shopifyOrder(tenant.shopify, 0, 'warm'), 0), 'us-east-1');
    await drain(sqs, stack.env.WEBHOOKS_QUEUE_URL as string);

    await measure('ingest (warm)', 'webhook', count, async ({ from, to }) => {
      for (let i = from + 1; i <= to; i++) {
        await invoke('ingest', apiEvent(shopifyOrder(tenant.shopify, i, 'units'), i), 'us-east-1');
      }
    });
    const webhooks = await received(sqs, stack.env.WEBHOOKS_QUEUE_URL as string, 2 * count);
    const storedBefore = await stored(side, stack.env);
    await measure('webhook worker (paid order with gclid)', 'webhook', count, ({ from, to }) =>
      deliver('webhookWorker', webhooks.slice(from, to)),
    );
    const conversions = await received(sqs, stack.env.CONVERSIONS_QUEUE_URL as string, 2 * count);
    await measure('conversion uploader (Google Ads)', 'conversion', count, ({ from, to }) =>
      deliver('conversionUploader', conversions.slice(from, to)),
    );
    storedPerWebhook = ((await stored(side, stack.env)) - storedBefore) / (2 * count);
    await measure('lead capture (API, one lead per request)', 'lead', count, async ({ from, to }) => {
      for (let i = from; i < to; i++) {
        const res = await fetch(`${stack.url}/api/v1/leads`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${tenant.token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({
            email: `api-${i}@example.com`,
            gclid: `EAIaIQobChMIapi${String(i).padStart(8, '0')}`.padEnd(92, 'y'),
            value: 120,
            currency: 'EUR',
            consent: { status: 'granted', method: 'form_checkbox', timestamp: new Date().toISOString() },
          }),
        });
        if (res.status !== 201) throw new Error(`lead capture answered ${res.status}`);
      }
    });
    return Object.assign(stages, { storedBytesPerWebhook: storedPerWebhook });
  } finally {
    output.restore();
    sqs.destroy();
    side.destroy();
    await stack.stop();
    await fake.close();
  }
}

async function drain(sqs: SQSClient, queueUrl: string): Promise<Message[]> {
  const out: Message[] = [];
  for (;;) {
    const got = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    if (!got.Messages?.length) return out;
    out.push(...got.Messages);
  }
}

/** The queue's messages, at least `expected` of them. */
async function received(sqs: SQSClient, queueUrl: string, expected: number): Promise<Message[]> {
  const messages = await drain(sqs, queueUrl);
  if (messages.length < expected) {
    throw new Error(`expected ${expected} messages on ${queueUrl}, found ${messages.length}`);
  }
  return messages;
}

/** Hands messages to their consumer in batches of 10, as the local poller does. */
async function deliver(fn: FunctionId, messages: readonly Message[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const result = (await invoke(fn, sqsEvent(messages.slice(i, i + 10)), 'us-east-1')) as {
      batchItemFailures?: unknown[];
    };
    if (result?.batchItemFailures?.length) {
      throw new Error(`${fn} failed ${result.batchItemFailures.length} messages`);
    }
  }
}

/** Bytes billed as stored in every table of the stack (a full scan of each, on the emulator). */
async function stored(client: DynamoDBClient, env: Record<string, string | undefined>): Promise<number> {
  let bytes = 0;
  for (const table of TABLES) {
    const name = env[table.envVar];
    if (!name) throw new Error(`the bench stack has no ${table.envVar}`);
    let start: Record<string, unknown> | undefined;
    do {
      const page = await client.send(new ScanCommand({ TableName: name, ExclusiveStartKey: start as never }));
      bytes += storedBytes(table, (page.Items ?? []) as never);
      start = page.LastEvaluatedKey;
    } while (start);
  }
  return bytes;
}

export function printUnits(stages: UnitsResult): void {
  console.log(
    'stage                                    per          RRU     WRU   DynamoDB calls   SQS calls   log bytes (lines)   EMF bytes   ms',
  );
  for (const s of stages) {
    console.log(
      [
        s.stage.padEnd(40),
        s.per.padEnd(10),
        s.readUnitsEach.toFixed(1).padStart(6),
        s.writeUnitsEach.toFixed(1).padStart(7),
        s.dynamoCallsEach.toFixed(1).padStart(16),
        s.sqsCallsEach.toFixed(1).padStart(11),
        `${s.logBytesEach.toFixed(0)} (${s.logLinesEach.toFixed(1)})`.padStart(19),
        s.metricBytesEach.toFixed(0).padStart(11),
        s.msEach.toFixed(0).padStart(5),
      ].join(' '),
    );
  }
  for (const s of stages) {
    const ops = Object.entries(s.byOperation)
      .map(
        ([op, v]) =>
          `${op} ${(v.calls / s.count).toFixed(1)}× (${((v.readUnits + v.writeUnits) / s.count).toFixed(1)} units)`,
      )
      .join(', ');
    console.log(`  ${s.stage}: ${ops}`);
  }
  console.log(
    `stored per webhook through the pipeline (items and index entries, 100 bytes of overhead each): ${stages.storedBytesPerWebhook.toFixed(0)} bytes`,
  );
}
