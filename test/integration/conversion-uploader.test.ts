import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PurgeQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { handler } from '../../functions/conversion-uploader/handler';
import { scopeFor } from '../../functions/conversion-uploader/messages';
import { DynamoConversionStore } from '../../functions/shared/features/conversions/dynamo';
import { DynamoConversionLog } from '../../functions/shared/features/conversions/dynamo-log';
import { DynamoLeadStore } from '../../functions/shared/features/leads/dynamo';
import type { StoredLead } from '../../functions/shared/features/leads/model';
import { sealCredential } from '../../functions/shared/platform/crypto/credentials';
import { logger } from '../../functions/shared/platform/observability';
import {
  CLIENT_SECRET_NAME,
  GoogleAdsIntegrationStore,
  REFRESH_TOKEN_NAME,
} from '../../functions/shared/providers/google-ads/integration';
import { OAuthStateStore } from '../../functions/shared/providers/google-ads/oauth';
import { type FakeGoogleAds, startFakeGoogleAds } from '../../local/fake-google-ads';
import { gclid } from '../support/click-ids';
import { scanAll } from '../support/dynamo';
import { emulatorUrl, freshResources } from '../support/emulator';
import { lambdaContext, sqsRecord } from '../support/events';
import { conversion, lead } from '../support/fixtures';
import { captureSingleMetrics } from '../support/metrics';

const TENANT = 'ten_uploader';
const scope = scopeFor(TENANT);
const log = new DynamoConversionLog();
let env: Record<string, string>;
let fake: FakeGoogleAds;

const message = (id: string) => JSON.stringify({ version: 1, tenant_id: TENANT, conversion_id: id });
const record = (messageId: string, body: string): SQSRecord => sqsRecord(messageId, body, 'test-conversions');
const batch = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

/** The copies the uploader sent back to wait (the queue also holds what `put` queued). */
async function delayedCopies(queueUrl: string) {
  const sqs = new SQSClient({ endpoint: emulatorUrl(), region: 'us-east-1' });
  try {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
      }),
    );
    const copies = (out.Messages ?? []).filter((m) => m.MessageAttributes?.provider_retries);
    await sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
    return copies;
  } finally {
    sqs.destroy();
  }
}

/** A won lead, and its Google Ads conversion of an order an hour ago, queued. */
async function put(id: string, seed: number, leadOverrides: Partial<StoredLead> = {}): Promise<void> {
  const leadId = `lead_${id}`;
  await new DynamoLeadStore().create(
    scope,
    lead({ id: leadId, email: `${leadId}@example.com`, email_hash: `hash-${leadId}`, ...leadOverrides }),
    [],
  );
  const conversionOfOrder = conversion(
    {
      id,
      lead_id: leadId,
      order_id: `order-${id}`,
      value: 20,
      currency: 'EUR',
      click_id_type: 'gclid',
      click_id: gclid(seed),
    },
    new Date(Date.now() - 3600_000),
  );
  await new DynamoConversionStore().queue(scope, conversionOfOrder);
}

beforeAll(async () => {
  fake = await startFakeGoogleAds();
  env = await freshResources({
    GOOGLE_DATA_MANAGER_BASE_URL: fake.baseUrl,
    GOOGLE_ADS_API_BASE_URL: fake.baseUrl,
    GOOGLE_OAUTH_TOKEN_URL: fake.tokenUrl,
    CONVERSION_RETRY_BASE_SECONDS: '0',
    CONVERSION_STATUS_CHECK_SECONDS: '0',
  });
  await new GoogleAdsIntegrationStore().save(scope, {
    customer_id: '1112223334',
    conversion_action_id: '42',
    client_id: 'client',
    time_zone: 'America/New_York',
    status: 'connected',
    updated_at: new Date().toISOString(),
    sealed_client_secret: await sealCredential(scope, CLIENT_SECRET_NAME, 'integration-client-secret'),
    sealed_refresh_token: await sealCredential(scope, REFRESH_TOKEN_NAME, 'integration-refresh-token'),
  });
});

afterEach(() => fake.reset());

afterAll(async () => {
  await fake.close();
  delete process.env.GOOGLE_ADS_API_BASE_URL;
  delete process.env.GOOGLE_DATA_MANAGER_BASE_URL;
  delete process.env.GOOGLE_OAUTH_TOKEN_URL;
  delete process.env.CONVERSION_STATUS_CHECK_SECONDS;
});

describe('conversion uploader', () => {
  it('uploads queued conversions in one events:ingest request, records the attempt, the batch and, later, the processing outcome', async () => {
    await put('cnv_i1', 101);
    await put('cnv_i2', 102);
    fake.commands.processingErrors.set(gclid(102), 'PROCESSING_ERROR_REASON_INVALID_CLICK');
    const result = await handler(
      batch(record('m1', message('cnv_i1')), record('m2', message('cnv_i2'))),
      lambdaContext('uploader'),
    );
    expect(result.batchItemFailures).toEqual([]);
    expect(fake.ingests).toHaveLength(1);
    expect((fake.ingests[0]?.body as { events?: unknown[] } | undefined)?.events).toHaveLength(2);
    const stored = await log.get(TENANT, 'cnv_i1');
    expect(stored).toMatchObject({
      status: 'uploaded',
      attempts: 1,
      google_request_id: fake.ingests[0]?.requestId,
    });
    const batches = await log.batches(TENANT);
    expect(batches).toEqual([
      expect.objectContaining({
        platform: 'google_ads',
        transport: 'data_manager',
        size: 2,
        successes: 2,
        failures: 0,
        outcome: 'completed',
        customer_id: '1112223334',
        google_request_id: fake.ingests[0]?.requestId,
        conversion_ids: ['cnv_i1', 'cnv_i2'],
      }),
    ]);
    // A second delivery of the same message sends nothing again.
    await handler(batch(record('m1-again', message('cnv_i1'))), lambdaContext('uploader'));
    expect(fake.ingests).toHaveLength(1);

    // The uploader queued a read of the request status; handling it records Google's outcome.
    const sqs = new SQSClient({ endpoint: emulatorUrl(), region: 'us-east-1' });
    const queued = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: env.CONVERSIONS_QUEUE_URL, MaxNumberOfMessages: 10 }),
    );
    sqs.destroy();
    const statusMessages = (queued.Messages ?? []).filter((m) => (m.Body ?? '').includes('request_status'));
    expect(statusMessages).toHaveLength(1);
    await handler(batch(record('s1', statusMessages[0]?.Body ?? '')), lambdaContext('uploader'));
    expect(fake.statusReads.map((r) => r.requestId)).toEqual([fake.ingests[0]?.requestId]);
    const processing = {
      state: 'partially_succeeded',
      errors: { PROCESSING_ERROR_REASON_INVALID_CLICK: 1 },
      warnings: {},
      records: 2,
      request_id: fake.ingests[0]?.requestId,
      checked_at: expect.any(String),
    };
    expect((await log.batches(TENANT))[0]?.processing).toEqual(processing);
    expect((await log.get(TENANT, 'cnv_i2'))?.processing).toEqual(processing);
  });

  it('Google failing: the message waits as a delayed copy (no receive spent), the conversion stays queued with the reason', async () => {
    await put('cnv_i3', 103);
    fake.commands.serverErrors = 1;
    const result = await handler(batch(record('m3', message('cnv_i3'))), lambdaContext('uploader'));
    expect(result.batchItemFailures).toEqual([]);
    expect(await log.get(TENANT, 'cnv_i3')).toMatchObject({
      status: 'queued',
      attempts: 1,
      last_error: expect.stringContaining('503'),
    });
    const copies = await delayedCopies(env.CONVERSIONS_QUEUE_URL as string);
    expect(copies.map((m) => [m.Body, m.MessageAttributes?.provider_retries?.StringValue])).toEqual([
      [message('cnv_i3'), '1'],
    ]);
    const retried = await handler(batch(record('m3b', message('cnv_i3'))), lambdaContext('uploader'));
    expect(retried.batchItemFailures).toEqual([]);
    expect(await log.get(TENANT, 'cnv_i3')).toMatchObject({ status: 'uploaded', attempts: 2 });
    expect((await log.get(TENANT, 'cnv_i3'))?.last_error).toBeUndefined();
  });

  it('a slow Google answer times out (AbortSignal.timeout) and waits like any provider failure', async () => {
    await put('cnv_i6', 106);
    process.env.GOOGLE_ADS_TIMEOUT_MS = '100';
    fake.commands.delayMs = 400;
    try {
      const result = await handler(batch(record('m6', message('cnv_i6'))), lambdaContext('uploader'));
      expect(result.batchItemFailures).toEqual([]);
      expect((await delayedCopies(env.CONVERSIONS_QUEUE_URL as string)).map((m) => m.Body)).toEqual([
        message('cnv_i6'),
      ]);
      expect(await log.get(TENANT, 'cnv_i6')).toMatchObject({
        status: 'queued',
        last_error: 'The Data Manager API timed out',
      });
    } finally {
      delete process.env.GOOGLE_ADS_TIMEOUT_MS;
    }
  });

  it('cancels a conversion of a restricted lead without sending it; dead-letters what is not a message', async () => {
    await put('cnv_i4', 104, { restricted: true });
    const result = await handler(
      batch(record('m4', message('cnv_i4')), record('junk', 'not json'), record('shape', '{"version":2}')),
      lambdaContext('uploader'),
    );
    expect(result.batchItemFailures).toEqual([]);
    expect(fake.ingests).toHaveLength(0);
    expect(await log.get(TENANT, 'cnv_i4')).toMatchObject({
      status: 'cancelled',
      cancel_reason: 'restricted',
    });
    expect(await log.recordAttempt(TENANT, 'cnv_i4', { status: 'uploaded' }, new Date())).toBe(false);
    const sqs = new SQSClient({ endpoint: emulatorUrl(), region: 'us-east-1' });
    const dlq = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: env.CONVERSIONS_DLQ_URL,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
      }),
    );
    sqs.destroy();
    expect((dlq.Messages ?? []).map((m) => m.MessageAttributes?.reason?.StringValue).sort()).toEqual([
      'not JSON',
      'not a conversion message',
    ]);
  });

  it('records why a conversion waits without counting an attempt', async () => {
    expect(
      await log.recordAttempt(
        TENANT,
        'cnv_i3',
        { status: 'queued', error: 'Google Ads is not connected', attempted: false },
        new Date(),
      ),
    ).toBe(false);
    await put('cnv_i5', 105);
    const now = new Date();
    expect(
      await log.recordAttempt(
        TENANT,
        'cnv_i5',
        { status: 'queued', error: 'waiting', attempted: false },
        now,
      ),
    ).toBe(true);
    expect(await log.get(TENANT, 'cnv_i5')).toMatchObject({
      status: 'queued',
      attempts: 0,
      last_error: 'waiting',
    });
  });

  it('OAuth states are taken once and refused once expired', async () => {
    const states = new OAuthStateStore();
    const pending = { tenant_id: TENANT, subject: 'user:1', redirect_uri: 'https://x/cb', expires_at: 2_000 };
    await states.save('nonce-live', pending);
    await states.save('nonce-old', pending);
    expect(await states.take('nonce-live', 1_000)).toEqual(pending);
    expect(await states.take('nonce-live', 1_000)).toBeUndefined();
    expect(await states.take('nonce-old', 2_000)).toBeUndefined();
    await expect(states.save('nonce-old', pending)).resolves.toBeUndefined();
    await expect(states.save('nonce-old', pending)).rejects.toThrow();
  });

  it('lists the conversion log by status with cursor pagination', async () => {
    // Uploaded conversions leave the status index (one index write instead of two), and are
    // listed by status all the same.
    const indexed = await scanAll(new DynamoDBClient({ endpoint: emulatorUrl(), region: 'us-east-1' }), {
      TableName: env.CONVERSIONS_TABLE,
      IndexName: 'gsi1',
    });
    const uploaded = (await log.list(scope, { limit: 100, status: 'uploaded' })).items;
    expect(uploaded.length).toBeGreaterThan(1);
    for (const conversion of uploaded) {
      expect(conversion.status).toBe('uploaded');
      expect(indexed.map((item) => item.sk?.S)).not.toContain(`CONV#${conversion.id}`);
    }
    expect(indexed.filter((item) => item.gsi1pk?.S?.endsWith('#STATUS#queued')).length).toBeGreaterThan(0);
    const first = await log.list(scope, { limit: 1, status: 'uploaded' });
    expect(first.items).toHaveLength(1);
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = await log.list(scope, {
      limit: 10,
      status: 'uploaded',
      cursor: first.next_cursor as string,
    });
    expect(second.items.map((c) => c.id)).not.toContain(first.items[0]?.id);
    const all = await log.list(scope, { limit: 100 });
    expect(all.items.map((c) => c.id).sort()).toEqual([
      'cnv_i1',
      'cnv_i2',
      'cnv_i3',
      'cnv_i4',
      'cnv_i5',
      'cnv_i6',
    ]);
    await expect(
      log.list(scope, { limit: 1, status: 'queued', cursor: first.next_cursor as string }),
    ).rejects.toThrow();
  });

  it("Google's field warnings: shown on the conversion's attempt, logged without values, counted per reason", async () => {
    await put('cnv_w1', 111);
    await put('cnv_w2', 112);
    await put('cnv_w3', 113);
    fake.commands.fieldWarnings.set(gclid(112), {
      reason: 'WARNING_REASON_GENERIC',
      field: 'conversion_value',
    });
    // A reason Google adds later is kept on the conversion and counted in the group `other`.
    fake.commands.fieldWarnings.set(gclid(113), {
      reason: 'WARNING_REASON_NEW_IN_A_LATER_RELEASE',
      field: 'currency',
    });
    const warned: unknown[][] = [];
    jest.spyOn(logger, 'warn').mockImplementation((...args: unknown[]) => {
      warned.push(args);
    });
    const { emitted: lines } = captureSingleMetrics();
    try {
      const result = await handler(
        batch(
          record('w1', message('cnv_w1')),
          record('w2', message('cnv_w2')),
          record('w3', message('cnv_w3')),
        ),
        lambdaContext('uploader'),
      );
      expect(result.batchItemFailures).toEqual([]);
    } finally {
      jest.restoreAllMocks();
    }
    expect(fake.ingests).toHaveLength(1);
    const requestId = fake.ingests[0]?.requestId;
    expect(await log.get(TENANT, 'cnv_w1')).toMatchObject({ status: 'uploaded', attempts: 1 });
    expect((await log.get(TENANT, 'cnv_w1'))?.field_warnings).toBeUndefined();
    expect(await log.get(TENANT, 'cnv_w2')).toMatchObject({
      status: 'uploaded',
      field_warnings: [{ reason: 'WARNING_REASON_GENERIC', field: 'conversion_value' }],
    });
    expect((await log.get(TENANT, 'cnv_w3'))?.field_warnings).toEqual([
      { reason: 'WARNING_REASON_NEW_IN_A_LATER_RELEASE', field: 'currency' },
    ]);
    const warnings = warned.filter(
      ([text]) => text === 'Google accepted a conversion without one of its fields',
    );
    expect(warnings.map(([, detail]) => detail)).toEqual([
      {
        platform: 'google_ads',
        reason: 'WARNING_REASON_GENERIC',
        field: 'conversion_value',
        event_index: 1,
        google_request_id: requestId,
        conversion_id: 'cnv_w2',
      },
      {
        platform: 'google_ads',
        reason: 'WARNING_REASON_NEW_IN_A_LATER_RELEASE',
        field: 'currency',
        event_index: 2,
        google_request_id: requestId,
        conversion_id: 'cnv_w3',
      },
    ]);
    // Google's description (which may quote a value) is never logged.
    expect(JSON.stringify(warned)).not.toContain('ignored');
    expect(lines.filter((line) => line.name === 'DataManagerFieldWarnings')).toEqual([
      { name: 'DataManagerFieldWarnings', value: 1, dimensions: { warning_reason: 'generic' } },
      { name: 'DataManagerFieldWarnings', value: 1, dimensions: { warning_reason: 'other' } },
    ]);
  });
});
