import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type AttributeValue, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { SQSEvent } from 'aws-lambda';
import { METRICS } from '../../contract/metrics';
import { TABLES, type TableId } from '../../contract/resources';
import { ExportTimeBudgetError, exportTables } from '../../functions/backup-worker/export';
import { handler } from '../../functions/backup-worker/handler';
import { BackupJobStore } from '../../functions/shared/features/backup/dynamo';
import type { BackupJob } from '../../functions/shared/features/backup/model';
import { dynamoClient, resetClients, s3Client } from '../../functions/shared/platform/aws/clients';
import { newId } from '../../functions/shared/platform/ids';
import { logger, metrics } from '../../functions/shared/platform/observability';
import { bootstrap } from '../../local/bootstrap';
import { run } from '../../ops/cli';
import { tableInKeyOrder } from '../support/dynamo';
import { emulatorUrl, freshResources } from '../support/emulator';
import { lambdaContext, sqsRecord } from '../support/events';
import { capture } from '../support/operator';

const EMAILS = Array.from({ length: 40 }, (_, i) => `lead${i}.person@example-agency.com`);
const client = () => ({ endpoint: emulatorUrl(), region: 'us-east-1' });

const sqsEvent = (body: string, messageId = 'm-1'): SQSEvent => ({
  Records: [sqsRecord(messageId, body, 'test-backups')],
});
const apiMessage = (jobId: string) => JSON.stringify({ version: 1, trigger: 'api', job_id: jobId });

/** Items of the job being exported change after their snapshot (status, progress) by design. */
const notJob = (jobId: string) => (item: Record<string, AttributeValue>) =>
  item.pk?.S !== `BACKUP#${jobId}` && !(item.pk?.S === 'BACKUPS' && item.sk?.S === jobId);

async function seed(env: Record<string, string>): Promise<void> {
  const dynamo = new DynamoDBClient(client());
  const put = (table: TableId, item: Record<string, AttributeValue>) =>
    dynamo.send(
      new PutItemCommand({ TableName: env[TABLES.find((t) => t.id === table)?.envVar ?? ''], Item: item }),
    );
  try {
    for (let i = 0; i < 3; i++) {
      await put('tenants', {
        pk: { S: `TENANT#ten_${i}` },
        sk: { S: 'META' },
        name: { S: `Agency ${i}` },
        gsi1pk: { S: 'TENANTS' },
        gsi1sk: { S: `2026-01-0${i + 1}#ten_${i}` },
        tags: { SS: ['a', 'b'] },
        scores: { NS: ['1', '2.5'] },
        raw: { B: new Uint8Array([0, 1, 2, 250 + i]) },
        blobs: { BS: [new Uint8Array([1]), new Uint8Array([2, i])] },
      });
    }
    for (const [i, email] of EMAILS.entries()) {
      await put('leads', {
        pk: { S: `TENANT#ten_${i % 3}` },
        sk: { S: `LEAD#lead_${String(i).padStart(4, '0')}` },
        email: { S: email },
        value: { N: `${i}.99` },
        consent: { M: { status: { S: 'granted' }, ad_user_data: { BOOL: true }, note: { NULL: true } } },
        history: { L: [{ S: 'created' }, { N: String(i) }] },
      });
    }
    // 30 items of 300 KB: more than one 8 MiB part, several 1 MB scan pages.
    for (let i = 0; i < 30; i++) {
      await put('leads', {
        pk: { S: 'TENANT#ten_big' },
        sk: { S: `LEAD#big_${String(i).padStart(3, '0')}` },
        notes: { S: `${i}:`.padEnd(300 * 1024, 'n') },
      });
    }
    await put('conversions', { pk: { S: 'TENANT#ten_0' }, sk: { S: 'CONV#conv_1' }, value: { N: '120.5' } });
    await put('audit', {
      pk: { S: 'TENANT#ten_0#SUBJECT#h' },
      sk: { S: '2026-01-01#a' },
      action: { S: 'consent' },
    });
    await put('rateLimits', { pk: { S: 'ip#1.2.3.4#0' }, count: { N: '3' }, expires_at: { N: '99' } });
    await put('dedup', { pk: { S: 'WEBHOOK#shopify#d1' }, expires_at: { N: '99' } });
  } finally {
    dynamo.destroy();
  }
}

describe('encrypted backup: worker, decrypt, restore', () => {
  let env: Record<string, string>;
  let jobs: BackupJobStore;
  let dir: string;
  let jobId: string;
  let job: BackupJob;

  const newJob = async (trigger: 'api' | 'schedule' = 'api') => {
    const id = newId('bkp');
    await jobs.create({
      id,
      trigger,
      requested_by: 'user:platform:owner',
      created_at: new Date().toISOString(),
    });
    return id;
  };

  beforeAll(async () => {
    env = await freshResources();
    await seed(env);
    jobs = new BackupJobStore();
    dir = mkdtempSync(path.join(tmpdir(), 'adsengineer-backup-'));
  });

  afterEach(() => {
    jest.restoreAllMocks();
    Object.assign(process.env, env);
  });

  // The decrypted exports hold the seeded personal data: none is left behind.
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('the worker exports every table, encrypted, in parts, and records counts, size and checksum', async () => {
    jobId = await newJob();
    const send = jest.spyOn(s3Client(), 'send');
    const result = await handler(sqsEvent(apiMessage(jobId)), lambdaContext('backup-worker'));
    expect(result.batchItemFailures).toEqual([]);

    job = (await jobs.get(jobId)) as BackupJob;
    expect(job).toMatchObject({ id: jobId, status: 'succeeded', trigger: 'api', attempts: 1 });
    const result0 = job.result;
    if (!result0) throw new Error('no result');
    expect(result0.item_counts).toMatchObject({
      tenants: 3,
      leads: EMAILS.length + 30,
      conversions: 1,
      audit: 1,
      rateLimits: 1,
      dedup: 1,
    });
    expect(Object.keys(result0.item_counts).sort()).toEqual(TABLES.map((t) => t.id).sort());
    expect(result0.total_items).toBe(
      Object.values(result0.item_counts).reduce((a, b) => (a ?? 0) + (b ?? 0), 0),
    );
    expect(result0.object_key).toMatch(new RegExp(`^backups/\\d{4}/\\d{2}/\\d{2}/${jobId}\\.aebk$`));
    expect(result0.kms_key_id).toBe(env.BACKUP_KMS_KEY_ID);
    expect(job.progress).toMatchObject({ tables_total: TABLES.length, tables_completed: TABLES.length });
    expect(
      send.mock.calls.filter(([command]) => command instanceof UploadPartCommand).length,
    ).toBeGreaterThanOrEqual(2);

    const s3 = new S3Client({ ...client(), forcePathStyle: true });
    const head = await s3.send(new HeadObjectCommand({ Bucket: env.BACKUP_BUCKET, Key: result0.object_key }));
    expect(head.ContentLength).toBe(result0.size_bytes);
    expect(head.ServerSideEncryption).toBe('aws:kms');
    const object = await s3.send(
      new GetObjectCommand({ Bucket: env.BACKUP_BUCKET, Key: result0.object_key }),
    );
    const bytes = Buffer.from(
      await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );
    s3.destroy();
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(result0.sha256);
    expect(bytes.subarray(0, 4).toString()).toBe('AEBK');
    for (const email of EMAILS) expect(bytes.includes(Buffer.from(email))).toBe(false);
    expect(bytes.includes(Buffer.from('Agency 1'))).toBe(false);
    expect(JSON.stringify(job)).not.toMatch(/@example-agency\.com/);
  });

  test('decrypt; restore the encrypted object into fresh tables: identical items in every table', async () => {
    const out = path.join(dir, 'backup.jsonl');
    const decrypted = capture();
    expect(await run(['backup', 'decrypt', '--job', jobId, '--out', out], decrypted)).toBe(0);
    expect(decrypted.stderr[0]).toBe(`[1/3] Locating the backup of job ${jobId} ...`);
    expect(decrypted.stderr).toContain(`      leads: ${EMAILS.length + 30} items`);
    expect(decrypted.stderr.at(-1)).toMatch(/^\[3\/3\] Verified \d+ items .*SHA-256 [0-9a-f]{64}$/);
    expect(decrypted.stdout).toEqual([
      `Decrypted backup of job ${jobId} (${job.result?.total_items} items) to ${out}`,
    ]);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readFileSync(out, 'utf8')).toContain(EMAILS[0]);
    for (const line of [...decrypted.stderr, ...decrypted.stdout])
      expect(line).not.toMatch(/@example-agency/);

    const restored = await bootstrap({ endpoint: emulatorUrl(), region: 'us-east-1', prefix: 'restored' });
    Object.assign(process.env, restored);
    resetClients();
    const restoring = capture();
    const objectKey = job.result?.object_key as string;
    expect(
      await run(
        ['backup', 'restore', '--key', objectKey, '--bucket', env.BACKUP_BUCKET as string],
        restoring,
      ),
    ).toBe(0);
    expect(restoring.stderr.slice(0, 4)).toEqual([
      '[1/3] Reading the erasure tombstones of the target ...',
      '[2/3] Opening the backup ...',
      `      reading s3://${env.BACKUP_BUCKET}/${objectKey}, verifying each chunk before its items are written`,
      expect.stringMatching(new RegExp(`^      backup of job ${jobId}, created `)),
    ]);
    expect(restoring.stderr).toContain(`      leads: ${EMAILS.length + 30} items`);
    expect(restoring.stdout).toEqual([`Restored ${job.result?.total_items} items of backup ${jobId}.`]);
    for (const line of restoring.stderr) expect(line).not.toMatch(/@example-agency/);

    const dynamo = new DynamoDBClient(client());
    try {
      for (const table of TABLES) {
        const source = (await tableInKeyOrder(dynamo, env[table.envVar] as string)).filter(notJob(jobId));
        const target = (await tableInKeyOrder(dynamo, restored[table.envVar] as string)).filter(
          notJob(jobId),
        );
        expect({ table: table.id, items: target }).toEqual({ table: table.id, items: source });
      }
      expect((await tableInKeyOrder(dynamo, restored.LEADS_TABLE as string)).length).toBe(EMAILS.length + 30);
    } finally {
      dynamo.destroy();
    }
  });

  test('restore refuses non-empty tables without --force and writes nothing; --force writes', async () => {
    const restored = await bootstrap({ endpoint: emulatorUrl(), region: 'us-east-1', prefix: 'restored' });
    Object.assign(process.env, restored);
    resetClients();
    const dynamo = new DynamoDBClient(client());
    try {
      await dynamo.send(
        new PutItemCommand({
          TableName: restored.CONVERSIONS_TABLE,
          Item: { pk: { S: 'X' }, sk: { S: 'Y' } },
        }),
      );
      const before = (await tableInKeyOrder(dynamo, restored.CONVERSIONS_TABLE as string)).length;
      const refused = capture();
      const source = ['--key', job.result?.object_key as string, '--bucket', env.BACKUP_BUCKET as string];
      expect(await run(['backup', 'restore', ...source], refused)).toBe(3);
      expect(refused.stderr.at(-1)).toMatch(
        /^Refused: not empty: tenants \(restored-tenants\), leads .*--force/,
      );
      expect((await tableInKeyOrder(dynamo, restored.CONVERSIONS_TABLE as string)).length).toBe(before);

      const forced = capture();
      expect(await run(['backup', 'restore', ...source, '--force'], forced)).toBe(0);
      expect(forced.stderr).toContain(
        '      not empty, writing anyway (--force): ' +
          TABLES.map((t) => `${t.id} (restored-${t.id})`).join(', '),
      );
      expect((await tableInKeyOrder(dynamo, restored.CONVERSIONS_TABLE as string)).length).toBe(before);
    } finally {
      dynamo.destroy();
    }
  });

  test('a decrypted file is refused without --unsafe-plaintext; with it, logged, and a truncated one leaves nothing written', async () => {
    const full = readFileSync(path.join(dir, 'backup.jsonl'), 'utf8').split('\n');
    const cut = path.join(dir, 'cut.jsonl');
    writeFileSync(cut, `${full.slice(0, 10).join('\n')}\n`);
    const fresh = await bootstrap({ endpoint: emulatorUrl(), region: 'us-east-1', prefix: 'cut' });
    Object.assign(process.env, fresh);
    resetClients();
    const refused = capture();
    expect(await run(['backup', 'restore', '--file', cut], refused)).toBe(3);
    expect(refused.stderr.at(-1)).toMatch(
      /^Refused: a plaintext file carries no authentication;.*--unsafe-plaintext/,
    );
    const io = capture();
    expect(await run(['backup', 'restore', '--file', cut, '--unsafe-plaintext'], io)).toBe(1);
    expect(io.stderr.at(-1)).toBe('Failed: backup is not well formed: no end line');
    const event = io.stderr
      .map((line) => (line.startsWith('{') ? JSON.parse(line) : undefined))
      .find(Boolean);
    expect(event).toMatchObject({ security_event: 'unsafe_plaintext_restore', file: cut });
    const dynamo = new DynamoDBClient(client());
    expect(await tableInKeyOrder(dynamo, fresh.TENANTS_TABLE as string)).toEqual([]);
    dynamo.destroy();
  });

  test('decrypt by object key; never over an existing file without --force', async () => {
    const out = path.join(dir, 'backup.jsonl');
    expect(await run(['backup', 'decrypt', '--job', jobId, '--out', out], capture())).toBe(3);
    const byKey = path.join(dir, 'by-key.jsonl');
    const io = capture();
    expect(
      await run(['backup', 'decrypt', '--key', job.result?.object_key as string, '--out', byKey], io),
    ).toBe(0);
    expect(readFileSync(byKey).equals(readFileSync(out))).toBe(true);
    expect(await run(['backup', 'decrypt', '--job', jobId, '--out', out, '--force'], capture())).toBe(0);
  });

  test('a tampered backup object fails to decrypt and leaves no file', async () => {
    const s3 = new S3Client({ ...client(), forcePathStyle: true });
    const key = job.result?.object_key as string;
    try {
      const object = await s3.send(new GetObjectCommand({ Bucket: env.BACKUP_BUCKET, Key: key }));
      const original = Buffer.from(
        await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
      );
      const tampered = Buffer.from(original);
      tampered[Math.floor(tampered.length / 2)] =
        (tampered[Math.floor(tampered.length / 2)] as number) ^ 0x01;
      await s3.send(new PutObjectCommand({ Bucket: env.BACKUP_BUCKET, Key: key, Body: tampered }));
      for (const args of [
        ['--job', jobId],
        ['--key', key],
      ]) {
        const out = path.join(dir, `tampered-${args[0]?.slice(2)}.jsonl`);
        const io = capture();
        expect(await run(['backup', 'decrypt', ...args, '--out', out], io)).toBe(1);
        expect(io.stderr.at(-1)).toMatch(/^Failed: /);
        expect(existsSync(out)).toBe(false);
        expect(existsSync(`${out}.partial`)).toBe(false);
      }
      // A restore of it writes nothing: the chunk fails its tag before its items are written.
      const fresh = await bootstrap({ endpoint: emulatorUrl(), region: 'us-east-1', prefix: 'tampered' });
      Object.assign(process.env, fresh);
      resetClients();
      const restoring = capture();
      expect(
        await run(['backup', 'restore', '--key', key, '--bucket', env.BACKUP_BUCKET as string], restoring),
      ).toBe(1);
      expect(restoring.stderr.at(-1)).toMatch(/^Failed: /);
      const dynamo = new DynamoDBClient(client());
      for (const table of TABLES)
        expect(await tableInKeyOrder(dynamo, fresh[table.envVar] as string)).toEqual([]);
      dynamo.destroy();
      Object.assign(process.env, env);
      resetClients();
      // Put the genuine object back for the tests that follow.
      await s3.send(new PutObjectCommand({ Bucket: env.BACKUP_BUCKET, Key: key, Body: original }));
    } finally {
      s3.destroy();
    }
  });

  test('a job that already succeeded is not exported again', async () => {
    const send = jest.spyOn(s3Client(), 'send');
    const result = await handler(sqsEvent(apiMessage(jobId)), lambdaContext('backup-worker'));
    expect(result.batchItemFailures).toEqual([]);
    expect(send).not.toHaveBeenCalled();
    expect((await jobs.get(jobId))?.attempts).toBe(1);
  });

  test('a schedule event starts one job, however often it is delivered', async () => {
    const body = JSON.stringify({
      version: 1,
      trigger: 'schedule',
      event_id: 'evt-integration-1',
      scheduled_at: new Date().toISOString(),
    });
    const before = (await jobs.list(100)).items.length;
    for (const messageId of ['s-1', 's-2']) {
      const result = await handler(sqsEvent(body, messageId), lambdaContext('backup-worker'));
      expect(result.batchItemFailures).toEqual([]);
    }
    const listed = (await jobs.list(100)).items;
    expect(listed).toHaveLength(before + 1);
    expect(listed[0]).toMatchObject({
      trigger: 'schedule',
      requested_by: 'schedule',
      status: 'succeeded',
      attempts: 1,
    });
  });

  test('without a backup key nothing is exported; the security event is logged and the metric emitted', async () => {
    const id = await newJob();
    process.env.BACKUP_KMS_KEY_ID = '';
    const warn = jest.spyOn(logger, 'warn');
    const addMetric = jest.spyOn(metrics, 'addMetric');
    const s3 = new S3Client({ ...client(), forcePathStyle: true });
    const objects = async () =>
      (await s3.send(new ListObjectsV2Command({ Bucket: env.BACKUP_BUCKET }))).KeyCount ?? 0;
    const before = await objects();
    const result = await handler(sqsEvent(apiMessage(id)), lambdaContext('backup-worker'));
    expect(result.batchItemFailures).toEqual([]);
    expect(await objects()).toBe(before);
    s3.destroy();
    expect(await jobs.get(id)).toMatchObject({
      status: 'failed',
      error: {
        code: 'backup_encryption_required',
        message: 'Cannot perform backup without encryption key. Contact administrator.',
      },
    });
    expect(warn).toHaveBeenCalledWith(expect.any(String), {
      event: 'backup_attempt_without_key',
      ip: null,
      timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      caller: { subject: 'user:platform:owner' },
      request_id: id,
    });
    expect(addMetric).toHaveBeenCalledWith(METRICS.backupAttemptWithoutKey, 'Count', 1);
  });

  test('a failed export is retried by SQS: the message is reported, the job marked failed', async () => {
    const id = await newJob();
    process.env.BACKUP_BUCKET = 'no-such-backup-bucket';
    const result = await handler(sqsEvent(apiMessage(id), 'fail-1'), lambdaContext('backup-worker'));
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'fail-1' }]);
    expect(await jobs.get(id)).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { code: 'export_failed' },
    });
    // The retry runs it again (attempt 2), and succeeds once the bucket is there.
    process.env.BACKUP_BUCKET = env.BACKUP_BUCKET;
    const retried = await handler(sqsEvent(apiMessage(id), 'fail-1'), lambdaContext('backup-worker'));
    expect(retried.batchItemFailures).toEqual([]);
    expect(await jobs.get(id)).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect((await jobs.get(id))?.error).toBeUndefined();
  });

  test('a message that is not a backup message, or names no job, is reported for the DLQ', async () => {
    const bad = await handler(sqsEvent('{"version":1}', 'bad-1'), lambdaContext('backup-worker'));
    expect(bad.batchItemFailures).toEqual([{ itemIdentifier: 'bad-1' }]);
    const unknown = await handler(
      sqsEvent(apiMessage('bkp_01jd0000000000000000000000'), 'bad-2'),
      lambdaContext('backup-worker'),
    );
    expect(unknown.batchItemFailures).toEqual([{ itemIdentifier: 'bad-2' }]);
  });

  /** An export of the local stack's tables to the backup bucket, as the worker starts one. */
  const exportJob = (name: string, options: Partial<Parameters<typeof exportTables>[0]> = {}) =>
    exportTables({
      jobId: `bkp_${name}`,
      createdAt: new Date().toISOString(),
      bucket: env.BACKUP_BUCKET as string,
      objectKey: `backups/test/${name}.aebk`,
      keyId: env.BACKUP_KMS_KEY_ID as string,
      dynamo: dynamoClient(),
      s3: s3Client(),
      tableName: (id) => env[TABLES.find((t) => t.id === id)?.envVar ?? ''] as string,
      ...options,
    });

  test('an export failing after a part was uploaded aborts the multipart upload', async () => {
    const s3 = new S3Client({ ...client(), forcePathStyle: true });
    const send = jest.spyOn(s3, 'send');
    const names = Object.fromEntries(TABLES.map((t) => [t.id, env[t.envVar] as string])) as Record<
      TableId,
      string
    >;
    await expect(
      exportJob('abort', {
        s3,
        tableName: (id) => (id === 'dedup' ? 'missing-table' : names[id]),
        partBytes: 5 * 1024 * 1024,
      }),
    ).rejects.toThrow();
    expect(
      send.mock.calls.filter(([command]) => command instanceof UploadPartCommand).length,
    ).toBeGreaterThanOrEqual(1);
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: env.BACKUP_BUCKET }));
    expect(uploads.Uploads ?? []).toEqual([]);
    s3.destroy();
  });

  test('an export stops cleanly before the function would be cut off', async () => {
    await expect(exportJob('time', { remainingMs: () => 10_000 })).rejects.toBeInstanceOf(
      ExportTimeBudgetError,
    );
  });

  test('jobs list newest first, with a cursor that cannot be pointed elsewhere', async () => {
    const all = (await jobs.list(100)).items;
    expect(all.length).toBeGreaterThanOrEqual(4);
    expect(all.map((j) => j.id)).toEqual([...all.map((j) => j.id)].sort().reverse());
    const first = await jobs.list(2);
    expect(first.items.map((j) => j.id)).toEqual(all.slice(0, 2).map((j) => j.id));
    const second = await jobs.list(2, first.next_cursor ?? undefined);
    expect(second.items.map((j) => j.id)).toEqual(all.slice(2, 4).map((j) => j.id));
    const forged = Buffer.from(JSON.stringify({ pk: 'TENANT#x', sk: 'META' })).toString('base64url');
    await expect(jobs.list(2, forged)).rejects.toMatchObject({ kind: 'validation' });
  });

  test('operator usage errors', async () => {
    for (const argv of [
      ['backup', 'decrypt', '--out', 'x'],
      ['backup', 'decrypt', '--job', 'a', '--key', 'b', '--out', 'x'],
      ['backup', 'decrypt', '--job', 'a'],
      ['backup', 'restore'],
    ]) {
      expect(await run(argv, capture())).toBe(2);
    }
    const missing = capture();
    expect(await run(['backup', 'decrypt', '--job', 'bkp_nope', '--out', path.join(dir, 'n')], missing)).toBe(
      1,
    );
    expect(missing.stderr.at(-1)).toBe('Failed: backup job bkp_nope not found');
    const failedJob = (await jobs.list(100)).items.find((j) => j.status === 'failed');
    const notDone = capture();
    expect(
      await run(
        ['backup', 'decrypt', '--job', failedJob?.id as string, '--out', path.join(dir, 'n')],
        notDone,
      ),
    ).toBe(1);
    expect(notDone.stderr.at(-1)).toMatch(/has no backup to decrypt \(status failed\)$/);
  });
});
