import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { currentHealth, handler } from '../../functions/health/handler';
import { PROBE_KEY } from '../../functions/health/probes';
import { resetClients } from '../../functions/shared/platform/aws/clients';
import { emulatorUrl, freshResources } from '../support/emulator';
import { apiEvent, lambdaContext } from '../support/events';

const clientConfig = () => ({ endpoint: emulatorUrl(), region: 'us-east-1' });

describe('GET /health against the emulator', () => {
  let env: Record<string, string>;
  beforeEach(async () => {
    env = await freshResources({ APP_VERSION: '9.9.9' });
    currentHealth.reset();
  });

  it('reports healthy after a real database write/read, a KMS round trip and queue checks', async () => {
    const result = await handler(apiEvent(), lambdaContext());
    const body = JSON.parse(result.body);
    expect(result.statusCode).toBe(200);
    expect(body).toMatchObject({
      status: 'healthy',
      version: '9.9.9',
      checks: {
        database: { status: 'pass' },
        encryption: { status: 'pass' },
        queues: { status: 'pass' },
        google_ads: { status: 'pass', circuit: 'closed' },
        meta: { status: 'pass', circuit: 'closed' },
        stripe: { status: 'pass', circuit: 'closed' },
      },
    });
    expect(typeof body.checks.database.latency_ms).toBe('number');
    expect(Date.parse(body.timestamp)).not.toBeNaN();
    const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig()));
    const probe = await dynamo.send(new GetCommand({ TableName: env.SYSTEM_TABLE, Key: PROBE_KEY }));
    dynamo.destroy();
    expect(typeof probe.Item?.written_at).toBe('number');
  });

  it('writes the probe item once per interval, whatever the number of evaluations', async () => {
    const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig()));
    const written = async () =>
      (await dynamo.send(new GetCommand({ TableName: env.SYSTEM_TABLE, Key: PROBE_KEY }))).Item?.written_at;
    await handler(apiEvent(), lambdaContext());
    const first = await written();
    // Fresh evaluations (cache forgotten), all within the write interval: reads only.
    for (let i = 0; i < 3; i++) {
      currentHealth.reset();
      const result = await handler(apiEvent(), lambdaContext());
      expect(JSON.parse(result.body).checks.database.status).toBe('pass');
    }
    expect(await written()).toBe(first);
    // With a zero interval every evaluation writes.
    process.env.HEALTH_WRITE_INTERVAL_SECONDS = '0';
    try {
      await new Promise((r) => setTimeout(r, 5));
      currentHealth.reset();
      await handler(apiEvent(), lambdaContext());
      expect(await written()).toBeGreaterThan(first);
    } finally {
      delete process.env.HEALTH_WRITE_INTERVAL_SECONDS;
      dynamo.destroy();
    }
  });

  it('is unhealthy when the key cannot decrypt, without naming the key', async () => {
    const saved = process.env.DATA_KMS_KEY_ID;
    process.env.DATA_KMS_KEY_ID =
      'arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000';
    resetClients();
    try {
      const result = await handler(apiEvent(), lambdaContext());
      const body = JSON.parse(result.body);
      expect(result.statusCode).toBe(503);
      expect(body.checks.encryption).toMatchObject({ status: 'fail', detail: 'check failed' });
      expect(result.body).not.toContain('00000000-0000');
    } finally {
      process.env.DATA_KMS_KEY_ID = saved;
    }
  });

  it('is degraded while a dead-letter queue holds messages', async () => {
    const sqs = new SQSClient(clientConfig());
    await sqs.send(new SendMessageCommand({ QueueUrl: env.WEBHOOKS_DLQ_URL, MessageBody: '{}' }));
    sqs.destroy();
    const result = await handler(apiEvent(), lambdaContext());
    const body = JSON.parse(result.body);
    expect(result.statusCode).toBe(200);
    expect(body.status).toBe('degraded');
    expect(body.checks.queues).toMatchObject({
      status: 'warn',
      detail: 'webhooks dead-letter queue holds 1 message(s)',
    });
  });

  it('is unhealthy with 503 when the database cannot be written', async () => {
    const dynamo = new DynamoDBClient(clientConfig());
    await dynamo.send(new DeleteTableCommand({ TableName: env.SYSTEM_TABLE }));
    dynamo.destroy();
    const result = await handler(apiEvent(), lambdaContext());
    const body = JSON.parse(result.body);
    expect(result.statusCode).toBe(503);
    expect(body.status).toBe('unhealthy');
    expect(body.checks.database).toMatchObject({ status: 'fail', detail: 'check failed' });
    expect(result.body).not.toContain('ResourceNotFound');
  });

  it('is unhealthy when a setting is missing, without naming it to the caller', async () => {
    const saved = process.env.WEBHOOKS_QUEUE_URL;
    delete process.env.WEBHOOKS_QUEUE_URL;
    resetClients();
    try {
      const result = await handler(apiEvent(), lambdaContext());
      expect(result.statusCode).toBe(503);
      expect(JSON.parse(result.body).checks.queues.status).toBe('fail');
      expect(result.body).not.toContain('WEBHOOKS_QUEUE_URL');
    } finally {
      process.env.WEBHOOKS_QUEUE_URL = saved;
    }
  });
});
