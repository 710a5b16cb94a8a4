import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BatchWriteItemCommand, DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { TABLES, type TableId } from '../contract/resources';
import { exportTables } from '../functions/backup-worker/export';
import { dynamoClient, resetClients, s3Client } from '../functions/shared/platform/aws/clients';
import { bootstrap } from '../local/bootstrap';
import { startEmulator } from '../local/emulator';
import { decryptBackup, restoreBackup } from '../ops/backup';

/**
 * Backup throughput against the emulator: export (scan, encrypt, multipart upload) of `items`
 * leads of about 1 KB, then decrypt to a file, and restore the encrypted backup into fresh
 * tables. moto on loopback is far slower than DynamoDB and S3 for scans and batch writes, so
 * these are lower bounds.
 */
export async function benchBackup(items = 20_000): Promise<void> {
  const emulator = await startEmulator({ root: path.resolve(__dirname, '..') });
  const dir = mkdtempSync(path.join(tmpdir(), 'adsengineer-bench-'));
  try {
    const env = await bootstrap({ endpoint: emulator.url, region: 'us-east-1', prefix: 'bench' });
    Object.assign(process.env, { AWS_ENDPOINT_URL: emulator.url, AWS_REGION: 'us-east-1' }, env);
    process.env.AWS_ACCESS_KEY_ID ??= 'bench';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'bench';
    resetClients();
    const seedClient = new DynamoDBClient({ endpoint: emulator.url, region: 'us-east-1' });
    for (let i = 0; i < items; i += 25) {
      const batch: WriteRequest[] = [];
      for (let j = i; j < Math.min(items, i + 25); j++) {
        batch.push({
          PutRequest: {
            Item: {
              pk: { S: `TENANT#ten_${j % 50}` },
              sk: { S: `LEAD#lead_${String(j).padStart(8, '0')}` },
              email: { S: `lead${j}@example.com` },
              gclid: { S: `Cj0KCQiA${'x'.repeat(90)}` },
              notes: { S: 'n'.repeat(800) },
              value: { N: String(j) },
            },
          },
        });
      }
      await seedClient.send(
        new BatchWriteItemCommand({ RequestItems: { [env.LEADS_TABLE as string]: batch } }),
      );
    }
    seedClient.destroy();

    const names = Object.fromEntries(TABLES.map((t) => [t.id, env[t.envVar] as string])) as Record<
      TableId,
      string
    >;
    const memoryBefore = process.memoryUsage().rss;
    let peakRss = memoryBefore;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 50);
    const started = performance.now();
    const result = await exportTables({
      jobId: 'bkp_bench',
      createdAt: new Date().toISOString(),
      bucket: env.BACKUP_BUCKET as string,
      objectKey: 'backups/bench/bkp_bench.aebk',
      keyId: env.BACKUP_KMS_KEY_ID as string,
      dynamo: dynamoClient(),
      s3: s3Client(),
      tableName: (id) => names[id],
    });
    const exportMs = performance.now() - started;
    clearInterval(sampler);
    const mb = result.size_bytes / 1024 / 1024;
    console.log(
      `export: ${result.total_items} items, ${mb.toFixed(1)} MB encrypted in ${(exportMs / 1000).toFixed(1)} s ` +
        `(${Math.round(result.total_items / (exportMs / 1000))} items/s, ${(mb / (exportMs / 1000)).toFixed(1)} MB/s); ` +
        `RSS growth during export ${((peakRss - memoryBefore) / 1024 / 1024).toFixed(0)} MB`,
    );

    const out = path.join(dir, 'bench.jsonl');
    const decryptStarted = performance.now();
    await decryptBackup({ key: result.object_key, out, progress: () => {} });
    const decryptMs = performance.now() - decryptStarted;
    const restored = await bootstrap({
      endpoint: emulator.url,
      region: 'us-east-1',
      prefix: 'bench-restored',
    });
    Object.assign(process.env, restored);
    resetClients();
    const restoreStarted = performance.now();
    // From the encrypted object, as operators restore (a decrypted file carries no authentication).
    await restoreBackup({ key: result.object_key, bucket: env.BACKUP_BUCKET as string, progress: () => {} });
    const restoreMs = performance.now() - restoreStarted;
    console.log(
      `decrypt to file: ${(decryptMs / 1000).toFixed(1)} s (${Math.round(result.total_items / (decryptMs / 1000))} items/s); ` +
        `restore from the encrypted backup: ${(restoreMs / 1000).toFixed(1)} s (${Math.round(result.total_items / (restoreMs / 1000))} items/s)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await emulator.stop();
  }
}
