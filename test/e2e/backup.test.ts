import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type AttributeValue, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { METRICS } from '../../contract/metrics';
import { TABLES } from '../../contract/resources';
import { clearKeyringCache, loadKeyring } from '../../functions/shared/platform/auth/keyring';
import { signToken } from '../../functions/shared/platform/auth/tokens';
import { resetClients } from '../../functions/shared/platform/aws/clients';
import { logger, metrics } from '../../functions/shared/platform/observability';
import { bootstrap } from '../../local/bootstrap';
import { resetEmulator } from '../../local/emulator';
import { type LocalStack, startLocalStack } from '../../local/stack';
import { run } from '../../ops/cli';
import { tableInKeyOrder } from '../support/dynamo';
import { emulatorUrl } from '../support/emulator';
import { type JsonResponse, request } from '../support/http';
import { capture } from '../support/operator';

const EMAILS = Array.from({ length: 25 }, (_, i) => `buyer${i}@shop-customer.example`);
const EMAIL_PATTERN = /[a-z0-9.]+@shop-customer\.example/;
const clientConfig = () => ({ endpoint: emulatorUrl(), region: 'us-east-1' });

async function platformToken(): Promise<string> {
  clearKeyringCache();
  return signToken(await loadKeyring(), { sub: 'user:platform:ops', org_id: 'platform', role: 'owner' }, 300);
}

type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'critical';
const LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error', 'critical'];

/** Errors logged with their name, message and stack, as Powertools prints them. */
const replacer = (_key: string, value: unknown) =>
  value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value;

/**
 * Every entry the functions log while `during` runs, whatever the configured level (Powertools
 * resets the level on each warm invocation, so a level set here would not hold), one JSON line
 * per entry: `{level, message, ...attributes}`.
 */
async function logsOf<T>(during: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  const spies = LEVELS.map((level) =>
    jest.spyOn(logger, level).mockImplementation((message: unknown, ...extra: unknown[]) => {
      const attributes = Object.assign(
        {},
        ...extra.map((e) => (typeof e === 'object' && e !== null ? e : { extra: e })),
      );
      lines.push(JSON.stringify({ level: level.toUpperCase(), message, ...attributes }, replacer));
    }),
  );
  try {
    return { result: await during(), lines };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

describe('backups over HTTP without a backup key (BACKUP_KMS_KEY_ID set empty)', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    await resetEmulator(emulatorUrl());
    resetClients();
    process.env.BACKUP_KMS_KEY_ID = '';
    stack = await startLocalStack({ port: 0, emulatorUrl: emulatorUrl(), prefix: 'e2e-backup' });
  });

  afterAll(async () => {
    await stack.stop();
    delete process.env.BACKUP_KMS_KEY_ID;
  });

  test('the local stack keeps the empty setting: backups are not configured', () => {
    expect(stack.env.BACKUP_KMS_KEY_ID).toBe('');
  });

  test('503 in the contract shape, the security event and the paging metric; nothing exported', async () => {
    const token = await platformToken();
    const addMetric = jest.spyOn(metrics, 'addMetric');
    const { result: res, lines } = await logsOf(() =>
      request(stack.url, 'POST', '/api/v1/admin/backups', { token }),
    );
    const requestId = res.headers.get('x-request-id');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({
      error: 'backup_encryption_required',
      code: 'BACKUP_ENCRYPTION_REQUIRED',
      message: 'Cannot perform backup without encryption key. Contact administrator.',
      request_id: requestId,
    });

    const events = lines
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => entry.event === 'backup_attempt_without_key');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      level: 'WARN',
      event: 'backup_attempt_without_key',
      ip: '127.0.0.1',
      caller: { subject: 'user:platform:ops', tenant_id: 'platform', role: 'owner' },
      request_id: requestId,
    });
    expect(Date.now() - Date.parse(String(events[0]?.timestamp))).toBeLessThan(60_000);
    expect(addMetric).toHaveBeenCalledWith(METRICS.backupAttemptWithoutKey, 'Count', 1);
    addMetric.mockRestore();

    const listed = await request(stack.url, 'GET', '/api/v1/admin/backups', { token });
    expect(listed).toMatchObject({ status: 200, body: { items: [], next_cursor: null } });
    const s3 = new S3Client({ ...clientConfig(), forcePathStyle: true });
    const objects = await s3.send(new ListObjectsV2Command({ Bucket: stack.env.BACKUP_BUCKET }));
    s3.destroy();
    expect(objects.KeyCount ?? 0).toBe(0);
    const sqs = new SQSClient(clientConfig());
    const queued = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: stack.env.BACKUPS_QUEUE_URL,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    sqs.destroy();
    expect(queued.Attributes).toEqual({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
  });

  test('authentication still comes first: no token is 401, a tenant admin is 403', async () => {
    expect((await request(stack.url, 'POST', '/api/v1/admin/backups')).status).toBe(401);
    clearKeyringCache();
    const tenantAdmin = await signToken(
      await loadKeyring(),
      { sub: 'u', org_id: 'ten_x', role: 'owner' },
      300,
    );
    expect((await request(stack.url, 'POST', '/api/v1/admin/backups', { token: tenantAdmin })).status).toBe(
      403,
    );
  });
});

describe('a full backup over HTTP with the local key (BACKUP_KMS_KEY_ID unset)', () => {
  let stack: LocalStack;
  let token: string;

  beforeAll(async () => {
    delete process.env.BACKUP_KMS_KEY_ID;
    await resetEmulator(emulatorUrl());
    resetClients();
    stack = await startLocalStack({ port: 0, emulatorUrl: emulatorUrl(), prefix: 'e2e-backup' });
    token = await platformToken();
  });

  afterAll(async () => {
    await stack.stop();
  });

  test('POST → 202, GET until done: counts, size and checksum, and no email in any response or log', async () => {
    expect(stack.env.BACKUP_KMS_KEY_ID).toMatch(/^[0-9a-f-]{36}$/);
    for (const name of ['Acme Agency', 'Beta Agency']) {
      const created = await request(stack.url, 'POST', '/api/v1/admin/tenants', { token, body: { name } });
      expect({ status: created.status, body: created.body }).toMatchObject({ status: 201, body: { name } });
    }
    const dynamo = new DynamoDBClient(clientConfig());
    for (const [i, email] of EMAILS.entries()) {
      await dynamo.send(
        new PutItemCommand({
          TableName: stack.env.LEADS_TABLE,
          Item: {
            pk: { S: 'TENANT#ten_acme' },
            sk: { S: `LEAD#lead_${String(i).padStart(3, '0')}` },
            email: { S: email },
            gclid: { S: `Cj0KCQiA${'x'.repeat(80)}${i}` },
            value: { N: String(10 + i) },
          },
        }),
      );
    }

    const responses: JsonResponse[] = [];
    const { result: job, lines } = await logsOf(async () => {
      const started = await request(stack.url, 'POST', '/api/v1/admin/backups', { token });
      responses.push(started);
      expect(started.status).toBe(202);
      expect(started.body).toMatchObject({
        status: 'queued',
        trigger: 'api',
        requested_by: 'user:platform:ops',
      });
      const id = started.body.id as string;
      expect(id).toMatch(/^bkp_[0-9a-z]{26}$/);
      expect(started.headers.get('location')).toBe(`/api/v1/admin/backups/${id}`);
      const deadline = Date.now() + 60_000;
      for (;;) {
        const polled = await request(stack.url, 'GET', `/api/v1/admin/backups/${id}`, { token });
        responses.push(polled);
        expect(polled.status).toBe(200);
        const status = polled.body.status;
        if (status === 'succeeded' || status === 'failed') return polled.body;
        if (Date.now() > deadline) throw new Error(`backup ${id} still ${String(status)} after 60 s`);
        await new Promise((r) => setTimeout(r, 200));
      }
    });

    expect(job).toMatchObject({
      status: 'succeeded',
      attempts: 1,
      progress: { tables_total: TABLES.length, tables_completed: TABLES.length },
      result: {
        bucket: stack.env.BACKUP_BUCKET,
        item_counts: { tenants: 2, leads: EMAILS.length },
        format_version: 1,
      },
    });
    const result = job.result as {
      size_bytes: number;
      sha256: string;
      object_key: string;
      total_items: number;
    };
    expect(result.size_bytes).toBeGreaterThan(EMAILS.length * 100);
    expect(result.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(result.object_key).toMatch(/^backups\/\d{4}\/\d{2}\/\d{2}\/bkp_[0-9a-z]{26}\.aebk$/);

    const list = await request(stack.url, 'GET', '/api/v1/admin/backups?limit=10', { token });
    responses.push(list);
    expect((list.body.items as { id: string }[]).map((j) => j.id)).toEqual([job.id]);
    const missing = await request(stack.url, 'GET', '/api/v1/admin/backups/bkp_01jd0000000000000000000000', {
      token,
    });
    expect(missing.status).toBe(404);

    // No response and no log line of the backup carries backed-up data.
    for (const response of responses) expect(JSON.stringify(response.body)).not.toMatch(EMAIL_PATTERN);
    expect(lines.some((line) => line.includes('Backup completed'))).toBe(true);
    for (const line of lines) expect(line).not.toMatch(EMAIL_PATTERN);

    // The operator decrypts it, and restores the encrypted object into fresh tables: the same items.
    const dir = mkdtempSync(path.join(tmpdir(), 'adsengineer-e2e-backup-'));
    const out = path.join(dir, 'backup.jsonl');
    expect(await run(['backup', 'decrypt', '--job', job.id as string, '--out', out], capture())).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain(EMAILS[0]);
    const sourceEnv = { ...stack.env };
    const restored = await bootstrap({
      endpoint: emulatorUrl(),
      region: 'us-east-1',
      prefix: 'e2e-restored',
    });
    Object.assign(process.env, restored);
    resetClients();
    try {
      const io = capture();
      const objectKey = result.object_key as string;
      const bucket = sourceEnv.BACKUP_BUCKET as string;
      expect(await run(['backup', 'restore', '--key', objectKey, '--bucket', bucket], io)).toBe(0);
      expect(io.stdout).toEqual([`Restored ${result.total_items} items of backup ${job.id}.`]);
      const ofJob = (item: Record<string, AttributeValue>) =>
        item.pk?.S === `BACKUP#${job.id}` || (item.pk?.S === 'BACKUPS' && item.sk?.S === job.id);
      // Rate-limit counters keep counting the polling requests after their snapshot; all else is still.
      for (const table of TABLES.filter((t) => t.id !== 'rateLimits')) {
        const source = (await tableInKeyOrder(dynamo, sourceEnv[table.envVar] as string)).filter(
          (i) => !ofJob(i),
        );
        const target = (await tableInKeyOrder(dynamo, restored[table.envVar] as string)).filter(
          (i) => !ofJob(i),
        );
        expect({ table: table.id, items: target }).toEqual({ table: table.id, items: source });
      }
      const counters = await tableInKeyOrder(dynamo, restored.RATE_LIMIT_TABLE as string);
      expect(counters.length).toBe(
        (job.result as { item_counts: { rateLimits: number } }).item_counts.rateLimits,
      );
    } finally {
      Object.assign(process.env, sourceEnv);
      resetClients();
      dynamo.destroy();
      // The decrypted export holds the test's personal data: none is left behind.
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
