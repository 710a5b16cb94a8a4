import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { handler } from '../../functions/health/handler';
import { resetClients } from '../../functions/shared/aws';
import { emulatorUrl, freshResources } from '../support/emulator';
import { apiEvent, lambdaContext } from '../support/events';

const clientConfig = () => ({ endpoint: emulatorUrl(), region: 'us-east-1' });

describe('GET /health against the emulator', () => {
  let env: Record<string, string>;
  beforeEach(async () => {
    env = await freshResources({ APP_VERSION: '9.9.9' });
  });

  it('reports healthy after a real database write/read and queue checks', async () => {
    const result = await handler(apiEvent(), lambdaContext());
    const body = JSON.parse(result.body);
    expect(result.statusCode).toBe(200);
    expect(body).toMatchObject({
      status: 'healthy',
      version: '9.9.9',
      checks: { database: { status: 'pass' }, queues: { status: 'pass' } },
    });
    expect(typeof body.checks.database.latency_ms).toBe('number');
    expect(Date.parse(body.timestamp)).not.toBeNaN();
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
