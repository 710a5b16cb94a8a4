import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type Message, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { serializeEnvelope } from '../../functions/shared/features/webhooks/model';
import { resetClients } from '../../functions/shared/platform/aws/clients';
import { resetEmulator } from '../../local/emulator';
import { MAX_BODY_BYTES } from '../../local/gateway';
import type { BatchReport } from '../../local/poller';
import { type LocalStack, startLocalStack } from '../../local/stack';
import { OPENAPI_PATH } from '../../tools/openapi/render';
import { emulatorUrl } from '../support/emulator';
import { request } from '../support/http';
import { eventually } from '../support/local-stack';

describe('the local stack over HTTP', () => {
  let stack: LocalStack;
  let sqs: SQSClient;
  const reports: BatchReport[] = [];

  beforeAll(async () => {
    await resetEmulator(emulatorUrl());
    resetClients();
    stack = await startLocalStack({
      port: 0,
      emulatorUrl: emulatorUrl(),
      prefix: 'e2e',
      retryDelaySeconds: 0,
    });
    stack.events.on('batch', (r: BatchReport) => reports.push(r));
    sqs = new SQSClient({ endpoint: emulatorUrl(), region: 'us-east-1' });
  });

  afterAll(async () => {
    sqs.destroy();
    await stack.stop();
  });

  it('serves the committed OpenAPI document at /api/v1/openapi.json, publicly', async () => {
    const res = await request(stack.url, 'GET', '/api/v1/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body).toEqual(JSON.parse(readFileSync(join(__dirname, '..', '..', OPENAPI_PATH), 'utf8')));
    expect(res.headers.get('x-ratelimit-limit')).toMatch(/^\d+$/);
  });

  it('answers GET /health with the checks it performed', async () => {
    const res = await fetch(`${stack.url}/health`);
    const body = await res.json();
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toMatch(/[0-9a-f-]{36}/);
    expect(body).toMatchObject({
      status: 'healthy',
      version: '0.1.0',
      checks: { database: { status: 'pass' }, queues: { status: 'pass' } },
    });
  });

  it('answers an unknown route with a JSON 404 in the contract shape', async () => {
    for (const [method, path] of [
      ['GET', '/nope'],
      ['POST', '/health'],
      ['GET', '/api/v1/does-not-exist'],
    ] as const) {
      const res = await fetch(`${stack.url}${path}`, { method });
      const requestId = res.headers.get('x-request-id');
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toContain('application/json');
      expect(await res.json()).toEqual({
        error: 'not_found',
        message: 'No route matches this request',
        request_id: requestId,
      });
    }
  });

  it('refuses a body over the API Gateway limit with 413 before any handler runs', async () => {
    const res = await fetch(`${stack.url}/api/v1/auth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: Buffer.alloc(MAX_BODY_BYTES + 1, 0x20),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: 'payload_too_large' });
  });

  it('delivers a queued message to its consumer, which deletes it', async () => {
    const sent = await sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.env.WEBHOOKS_QUEUE_URL,
        MessageBody: serializeEnvelope({
          version: 1,
          id: 'wh_e2e',
          source: 'woocommerce',
          tenant_id: 'tenant-a',
          topic: 'action.woocommerce_unknown',
          delivery_id: 'e2e-1',
          received_at: new Date().toISOString(),
          payload: '{}',
        }),
      }),
    );
    const report = await eventually(
      async () => reports.find((r) => r.messageIds.includes(sent.MessageId ?? '')),
      'the consumer to receive the message',
      15_000,
    );
    expect(report).toMatchObject({ queue: 'webhooks', functionId: 'webhookWorker', failedIds: [] });
  });

  const deadLetter = (match: (message: Message) => boolean) =>
    eventually(
      async () => {
        const out = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: stack.env.WEBHOOKS_DLQ_URL,
            WaitTimeSeconds: 1,
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: ['All'],
          }),
        );
        return out.Messages?.find(match);
      },
      'the message in the dead-letter queue',
      30_000,
    );

  it('dead-letters a message that is not an envelope at once, with the reason', async () => {
    const sent = await sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.env.WEBHOOKS_QUEUE_URL,
        MessageBody: '{"not":"an envelope","n":"x-1"}',
      }),
    );
    const dead = await deadLetter((m) => m.Body?.includes('x-1') === true);
    expect(dead.Body).toBe('{"not":"an envelope","n":"x-1"}');
    expect(dead.MessageAttributes?.reason?.StringValue).toMatch(/not a webhook envelope v1/);
    expect(reports.filter((r) => r.failedIds.includes(sent.MessageId ?? ''))).toHaveLength(0);
  });

  it('moves a message its consumer fails 3 times to the dead-letter queue', async () => {
    // The dedup table gone: every attempt fails, as with any outage of the data store.
    const dynamo = new DynamoDBClient({ endpoint: emulatorUrl(), region: 'us-east-1' });
    await dynamo.send(new DeleteTableCommand({ TableName: stack.env.DEDUP_TABLE }));
    dynamo.destroy();
    const sent = await sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.env.WEBHOOKS_QUEUE_URL,
        MessageBody: serializeEnvelope({
          version: 1,
          id: 'wh_outage',
          source: 'woocommerce',
          tenant_id: 'tenant-a',
          topic: 'order.created',
          delivery_id: 'outage-1',
          received_at: new Date().toISOString(),
          payload: '{}',
        }),
      }),
    );
    const dead = await deadLetter((m) => m.MessageId === sent.MessageId);
    expect(dead.MessageId).toBe(sent.MessageId);
    const failures = reports.filter((r) => r.failedIds.includes(sent.MessageId ?? ''));
    expect(failures).toHaveLength(3);
  });
});
