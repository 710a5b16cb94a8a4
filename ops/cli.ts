import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { SSMClient } from '@aws-sdk/client-ssm';
import { ROLES } from '../contract/routes';
import { STAGES, type Stage } from '../contract/stages';
import { DynamoAuditTrail } from '../functions/shared/features/gdpr/dynamo-audit';
import { DynamoTombstones } from '../functions/shared/features/gdpr/dynamo-tombstones';
import { admitUnlessErased } from '../functions/shared/features/gdpr/rules/deliveries';
import { loadEmailHasher } from '../functions/shared/features/leads/rules/email-hash';
import { isRole } from '../functions/shared/platform/auth/context';
import { loadKeyring, rotateStoredSecret } from '../functions/shared/platform/auth/keyring';
import { MAX_TOKEN_SECONDS, maxTokenSeconds, signToken } from '../functions/shared/platform/auth/tokens';
import { resetClients, secretsClient } from '../functions/shared/platform/aws/clients';
import { PROVIDERS, type Provider } from '../functions/shared/platform/breaker/circuit';
import {
  type CircuitView,
  forceClose,
  readCircuits,
  resetBreakers,
} from '../functions/shared/platform/breaker/circuits';
import { redriveDeadLetters } from '../functions/shared/platform/queues/dead-letters';
import { systemScope } from '../functions/shared/platform/system-scope';
import { readState } from '../local/state';
import { formatAlarmTable, listAlarms, testAlarm } from './alarms';
import { decryptBackup, RefusedError, restoreBackup } from './backup';
import { checkStageConfig } from './config-check';
import { grafanaDashboardText } from './grafana';
import { migrateLeadConversions } from './migrate';
import { backfillExpiry, sweepExpired } from './retention';
import { awsRollbackPort, type RollbackPort, rollbackStage } from './rollback';
import { smoke } from './smoke';

export interface Io {
  out(line: string): void;
  err(line: string): void;
}

export const USAGE = `Usage: adsengineer <command> [options]

Commands:
  token issue --tenant <id> --role <${ROLES.join('|')}> [--subject <name>] [--ttl <15m>]
      Print a signed access token (HS256, current secret, kid header).
  secret rotate [--window <25h>] [--secret-id <arn>]
      New JWT secret in Secrets Manager; the previous one verifies for the window.
  backup decrypt (--job <id> | --key <s3 key> [--bucket <name>]) --out <file> [--force]
      Download an encrypted backup, verify it and decrypt it to a local file (JSON lines, 0600).
  backup restore (--job <id> | --key <s3 key> [--bucket <name>]) [--force]
      Read an encrypted backup once, verifying each chunk before its items are written, into the
      tables (*_TABLE); refuses non-empty tables without --force; leaves out erased subjects; a
      failed restore deletes what it wrote.
  backup restore --file <decrypted file> --unsafe-plaintext [--force]
      The same from a decrypted file, which nothing authenticates: refused without the flag,
      logged as a security event with it.
  dlq redrive --queue <webhooks|conversions> [--max <n>]
      Move dead-lettered messages back to their queue (*_QUEUE_URL, *_DLQ_URL), with progress;
      webhook deliveries of persons erased since are deleted instead (EMAIL_HASH_KEY[_ARN], AUDIT_TABLE).
  circuit status
      Each provider's circuit breaker: state, since when open, last success (SYSTEM_TABLE).
  circuit close --provider <${PROVIDERS.join('|')}>
      Emergency override: close a provider's circuit now, forgetting its recent failures.
  alarms list [--prefix <AdsEngineer-prod>]
      Every alarm of the stack: severity, state, runbook section.
  alarms test --alarm <name> [--prefix <AdsEngineer-prod>] [--hold <seconds>]
      Set an alarm to ALARM, then back to OK: PagerDuty and Slack open and resolve a test incident.
  dashboards grafana [--out <file>]
      Print (or write) the Grafana dashboard JSON for the CloudWatch data source.
  retention sweep [--at <ISO time>]
      Delete every item whose expiry (expires_at) has passed, with progress: what DynamoDB's TTL
      does on its own in AWS, for the local emulator (--local), which never does. --at sweeps as
      of another time (e.g. to see what a retention change removes, on a copy).
  retention backfill
      Give an expiry to the leads, conversions and audit entries written before retention
      existed (last change plus the tenant's days); resumable, with progress.
  migrate lead-conversions
      Record on each lead the conversions of its orders from before conversion ids derived from
      the order alone, which erasure and the subject export find from the lead (LEADS_TABLE,
      CONVERSIONS_TABLE); safe on a live stage, resumable, with progress.

  config check --stage <${STAGES.join('|')}>
      Every SSM parameter and secret the stage reads: present, non-empty, well-formed (values are
      never printed). Exits 1 naming each missing or malformed setting. Needs read access to
      them in the stage's account (AWS_PROFILE / AWS_REGION).
  rollback --stage <${STAGES.join('|')}>
      Stop the stage's in-flight deployments with automatic rollback, or when none is in flight
      move every function's live alias back to its previous version (docs/rollback.md).
  smoke --url <base url> [--api-key <key>]
      Verify a live stage: health, OpenAPI, token, a lead captured, read back and erased, a bad
      webhook signature refused, rate-limit headers. The key (default SMOKE_API_KEY) is an admin
      key of the stage's synthetic smoke tenant. Exits 1 when any check fails.

Options:
  --local   use the stack started by \`npm start\` (its emulator and secret)
  --help    this text

The secret comes from JWT_SECRET, or the Secrets Manager secret JWT_SECRET_ARN. Backups need
KMS Decrypt on the backup key, and SYSTEM_TABLE (for --job), BACKUP_BUCKET or --bucket (for --key),
and the *_TABLE names (for restore) of the target stage.`;

async function configCheckCommand(values: Values, io: Io): Promise<number> {
  const stage = stageOf(values, 'config check');
  const findings = await checkStageConfig(stage, {
    ssm: new SSMClient({ region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1' }),
    secrets: secretsClient(),
    progress: io.err,
  });
  const failed = findings.filter((f) => !f.ok);
  if (failed.length) {
    io.err(`Stage ${stage} is not fully configured: ${failed.map((f) => f.label).join(', ')}`);
    return 1;
  }
  io.err(`Stage ${stage}: all ${findings.length} settings present and well-formed`);
  return 0;
}

function stageOf(values: Values, command: string): Stage {
  const stage = values.stage;
  if (typeof stage !== 'string' || !(STAGES as readonly string[]).includes(stage)) {
    throw new UsageError(`${command} needs --stage <${STAGES.join('|')}>`);
  }
  return stage as Stage;
}

async function rollbackCommand(values: Values, io: Io, port: () => RollbackPort): Promise<void> {
  const stage = stageOf(values, 'rollback');
  const report = await rollbackStage(stage, port(), io.err);
  io.err(
    report.stopped.length
      ? `Rollback of ${stage} started: ${report.stopped.length} deployment(s) stopped; watch them in CodeDeploy`
      : `Rollback of ${stage} done: ${report.moved.length} alias(es) moved back, ${report.unchanged.length} unchanged`,
  );
}

async function smokeCommand(values: Values, io: Io): Promise<number> {
  const url = typeof values.url === 'string' ? values.url : '';
  if (!/^https?:\/\/[^/\s]+/.test(url)) throw new UsageError('smoke needs --url <http(s) base url>');
  const apiKey = typeof values['api-key'] === 'string' ? values['api-key'] : process.env.SMOKE_API_KEY;
  if (!apiKey)
    throw new UsageError(
      "smoke needs --api-key <key> or SMOKE_API_KEY (an admin key of the stage's smoke tenant)",
    );
  const result = await smoke({ url, apiKey, progress: io.err });
  return result.failed.length ? 1 : 0;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** `90`, `90s`, `15m`, `2h` → seconds. */
export function parseDuration(value: string): number {
  const match = /^(\d+)([smh]?)$/.exec(value.trim());
  if (!match) throw new UsageError(`not a duration: ${value} (use e.g. 900, 15m or 2h)`);
  const n = Number(match[1]);
  const unit = match[2] === 'h' ? 3600 : match[2] === 'm' ? 60 : 1;
  return n * unit;
}

function useLocalStack(): void {
  const state = readState();
  if (!state) throw new UsageError('no local stack is running (start it with `npm start`)');
  Object.assign(process.env, state.env);
  delete process.env.JWT_SECRET;
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  resetClients();
  resetBreakers();
}

async function issueToken(values: Values, io: Io): Promise<void> {
  const tenant = values.tenant;
  const role = values.role;
  if (typeof tenant !== 'string' || !tenant) throw new UsageError('token issue needs --tenant <id>');
  if (!isRole(role)) throw new UsageError(`token issue needs --role <${ROLES.join('|')}>`);
  const ttl = parseDuration(typeof values.ttl === 'string' ? values.ttl : '15m');
  // Within the lifetime the API accepts (JWT_MAX_TTL_SECONDS), so no token is issued to be refused.
  const max = maxTokenSeconds();
  if (ttl < 1 || ttl > max) throw new UsageError(`--ttl must be 1s to ${max}s`);
  const subject =
    typeof values.subject === 'string' && values.subject ? values.subject : `operator:${tenant}`;
  io.err('Loading the signing secret ...');
  const keyring = await loadKeyring();
  const token = await signToken(keyring, { sub: subject, org_id: tenant, role }, ttl);
  io.err(`Token for tenant ${tenant}, role ${role}, valid ${ttl} s, key ${keyring.current.kid}:`);
  io.out(token);
}

async function rotateSecret(values: Values, io: Io): Promise<void> {
  const secretId = typeof values['secret-id'] === 'string' ? values['secret-id'] : process.env.JWT_SECRET_ARN;
  if (!secretId) {
    throw new UsageError(
      'secret rotate needs the Secrets Manager secret: --secret-id <arn> or JWT_SECRET_ARN',
    );
  }
  const window = parseDuration(typeof values.window === 'string' ? values.window : '25h');
  if (window < MAX_TOKEN_SECONDS / 24) throw new UsageError('--window must be at least 1h');
  io.err('[1/2] Reading the current secret ...');
  io.err('[2/2] Writing the new secret ...');
  const result = await rotateStoredSecret(secretId, window);
  io.out(
    `Rotated. New key ${result.currentKid}; previous key ${result.previousKid} verifies until ` +
      `${new Date(result.previousExpiresAt * 1000).toISOString()}.`,
  );
}

function stringOption(values: Values, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

async function decryptCommand(values: Values, io: Io): Promise<void> {
  const jobId = stringOption(values, 'job');
  const key = stringOption(values, 'key');
  const out = stringOption(values, 'out');
  if (!out || (jobId === undefined) === (key === undefined)) {
    throw new UsageError('backup decrypt needs --out <file> and one of --job <id> or --key <s3 key>');
  }
  const bucket = stringOption(values, 'bucket');
  const result = await decryptBackup({
    ...(jobId ? { jobId } : {}),
    ...(key ? { key } : {}),
    ...(bucket ? { bucket } : {}),
    out,
    force: values.force === true,
    progress: io.err,
  });
  io.out(`Decrypted backup of job ${result.jobId} (${result.totalItems} items) to ${out}`);
}

async function restoreCommand(values: Values, io: Io): Promise<void> {
  const jobId = stringOption(values, 'job');
  const key = stringOption(values, 'key');
  const file = stringOption(values, 'file');
  if ([jobId, key, file].filter((v) => v !== undefined).length !== 1) {
    throw new UsageError(
      'backup restore needs one of --job <id>, --key <s3 key> (encrypted backups) or --file <decrypted file> --unsafe-plaintext',
    );
  }
  const bucket = stringOption(values, 'bucket');
  const result = await restoreBackup({
    ...(jobId ? { jobId } : {}),
    ...(key ? { key } : {}),
    ...(bucket ? { bucket } : {}),
    ...(file ? { file, unsafePlaintext: values['unsafe-plaintext'] === true } : {}),
    force: values.force === true,
    progress: io.err,
    securityEvent: (event) => io.err(JSON.stringify(event)),
  });
  io.out(`Restored ${result.written} items of backup ${result.jobId}.`);
  const dropped = Object.entries(result.dropped);
  if (dropped.length) {
    io.out(`Left out items of erased subjects: ${dropped.map(([table, n]) => `${table} ${n}`).join(', ')}.`);
  }
}

const OPTIONS = {
  tenant: { type: 'string' },
  role: { type: 'string' },
  subject: { type: 'string' },
  ttl: { type: 'string' },
  window: { type: 'string' },
  'secret-id': { type: 'string' },
  job: { type: 'string' },
  key: { type: 'string' },
  bucket: { type: 'string' },
  out: { type: 'string' },
  file: { type: 'string' },
  force: { type: 'boolean' },
  'unsafe-plaintext': { type: 'boolean' },
  queue: { type: 'string' },
  max: { type: 'string' },
  provider: { type: 'string' },
  local: { type: 'boolean' },
  alarm: { type: 'string' },
  prefix: { type: 'string' },
  hold: { type: 'string' },
  url: { type: 'string' },
  'api-key': { type: 'string' },
  stage: { type: 'string' },
  at: { type: 'string' },
  help: { type: 'boolean' },
} as const;

type Values = Record<string, string | boolean | undefined>;

async function redriveCommand(values: Values, io: Io): Promise<void> {
  const queue = values.queue;
  if (queue !== 'webhooks' && queue !== 'conversions') {
    throw new UsageError('dlq redrive needs --queue webhooks or --queue conversions');
  }
  const max = values.max === undefined ? undefined : Number(values.max);
  if (max !== undefined && (!Number.isInteger(max) || max < 1))
    throw new UsageError('--max must be a positive integer');
  io.err(`Moving dead letters of ${queue} back to the queue ...`);
  // Deliveries of persons erased since are dropped, as the API's redrive does (needs the email hash key).
  const admit =
    queue === 'webhooks'
      ? admitUnlessErased(
          {
            guard: { tombstones: new DynamoTombstones(), hash: await loadEmailHasher() },
            audit: new DynamoAuditTrail(),
            scopeFor: (tenantId) => systemScope('operator:cli', tenantId),
          },
          { subject: 'operator:cli', ip: 'cli', request_id: 'dlq-redrive' },
        )
      : undefined;
  const result = await redriveDeadLetters(queue, {
    ...(max ? { max } : {}),
    ...(admit ? { admit } : {}),
    onProgress: (moved) => {
      if (moved % 10 === 0) io.err(`  ${moved} moved`);
    },
  });
  io.out(`Redrove ${result.moved} message(s) to ${queue}.`);
  if (result.dropped) io.out(`Dropped ${result.dropped} delivery(ies) of persons erased since.`);
}

function describeCircuit(provider: Provider, view: CircuitView): string {
  const parts = [`${provider}: ${view.state}`];
  if (view.opened_at) parts.push(`open since ${view.opened_at}`);
  if (view.retry_after_seconds !== undefined && view.state !== 'closed')
    parts.push(`next probe in ${view.retry_after_seconds} s`);
  parts.push(view.last_success_at ? `last success ${view.last_success_at}` : 'no success recorded');
  return parts.join(', ');
}

async function circuitStatus(io: Io): Promise<void> {
  const views = await readCircuits();
  for (const provider of PROVIDERS) io.out(describeCircuit(provider, views[provider]));
}

async function circuitClose(values: Values, io: Io): Promise<void> {
  const provider = values.provider;
  if (typeof provider !== 'string' || !(PROVIDERS as readonly string[]).includes(provider)) {
    throw new UsageError(`circuit close needs --provider ${PROVIDERS.join(', --provider ')}`);
  }
  io.err(`Closing the ${provider} circuit ...`);
  const was = await forceClose(provider as Provider);
  io.out(
    was === 'closed'
      ? `The ${provider} circuit was already closed; its recent failures are forgotten.`
      : `The ${provider} circuit was ${was.replace('_', '-')}; it is closed now. Calls go to the provider again; if it is still failing the circuit opens again after the threshold of failures.`,
  );
}

function alarmPrefix(values: Values): string {
  const prefix =
    stringOption(values, 'prefix') ?? process.env.ALARM_PREFIX ?? `AdsEngineer-${process.env.STAGE ?? 'dev'}`;
  return prefix.endsWith('-') ? prefix : `${prefix}-`;
}

async function alarmsListCommand(values: Values, io: Io): Promise<void> {
  const alarms = await listAlarms(alarmPrefix(values));
  if (alarms.length === 0) {
    io.out(`No alarms named ${alarmPrefix(values)}*.`);
    return;
  }
  for (const line of formatAlarmTable(alarms)) io.out(line);
}

async function alarmsTestCommand(values: Values, io: Io): Promise<void> {
  const name = stringOption(values, 'alarm');
  if (!name) throw new UsageError('alarms test needs --alarm <name> (see alarms list)');
  const hold = values.hold === undefined ? 60 : Number(values.hold);
  if (!Number.isFinite(hold) || hold < 0) throw new UsageError('--hold must be a number of seconds');
  const prefix = alarmPrefix(values);
  const fullName = name.startsWith(prefix) ? name : `${prefix}${name}`;
  await testAlarm(fullName, { holdSeconds: hold, progress: io.err });
  io.out(
    `Test of ${fullName} done: it went to ALARM and back to OK; check that PagerDuty and Slack opened and resolved an incident.`,
  );
}

async function grafanaCommand(values: Values, io: Io): Promise<void> {
  const out = stringOption(values, 'out');
  const text = grafanaDashboardText();
  if (!out) {
    io.out(text.trimEnd());
    return;
  }
  await writeFile(out, text);
  io.out(`Wrote the Grafana dashboard to ${out}.`);
}

async function retentionSweepCommand(values: Values, io: Io): Promise<void> {
  const at = stringOption(values, 'at');
  const now = at === undefined ? new Date() : new Date(at);
  if (Number.isNaN(now.getTime()))
    throw new UsageError('--at must be an ISO time, e.g. 2027-01-31T00:00:00Z');
  io.err(`Deleting items expired at ${now.toISOString()} ...`);
  const swept = await sweepExpired({ now, progress: io.err });
  const deleted = swept.reduce((sum, table) => sum + table.deleted, 0);
  io.out(`Deleted ${deleted} expired item(s) from ${swept.length} tables.`);
}

async function retentionBackfillCommand(io: Io): Promise<void> {
  io.err('Giving an expiry to items written without one ...');
  const done = await backfillExpiry({ progress: io.err });
  const updated = done.reduce((sum, table) => sum + table.updated, 0);
  io.out(`Gave an expiry to ${updated} item(s).`);
}

async function migrateLeadConversionsCommand(io: Io): Promise<void> {
  io.err('Recording the conversions of leads on their leads ...');
  const done = await migrateLeadConversions({ progress: io.err });
  io.out(
    `Read ${done.scanned} conversion(s) of leads: ${done.recorded} recorded on their lead, ${done.derivable} found from it already, ${done.leadGone} whose lead is gone.`,
  );
}

/** Runs one operator command; returns the process exit code. */
/** `rollbackPort` replaces AWS in tests. */
export async function run(
  argv: string[],
  io: Io,
  rollbackPort: () => RollbackPort = () => awsRollbackPort(process.env.AWS_REGION),
): Promise<number> {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: OPTIONS,
    });
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const command = positionals.join(' ');
  if (values.help || !command) {
    io.out(USAGE);
    return values.help ? 0 : 2;
  }
  try {
    if (values.local) useLocalStack();
    if (command === 'token issue') await issueToken(values, io);
    else if (command === 'secret rotate') await rotateSecret(values, io);
    else if (command === 'backup decrypt') await decryptCommand(values, io);
    else if (command === 'backup restore') await restoreCommand(values, io);
    else if (command === 'dlq redrive') await redriveCommand(values, io);
    else if (command === 'circuit status') await circuitStatus(io);
    else if (command === 'circuit close') await circuitClose(values, io);
    else if (command === 'alarms list') await alarmsListCommand(values, io);
    else if (command === 'alarms test') await alarmsTestCommand(values, io);
    else if (command === 'dashboards grafana') await grafanaCommand(values, io);
    else if (command === 'retention sweep') await retentionSweepCommand(values, io);
    else if (command === 'retention backfill') await retentionBackfillCommand(io);
    else if (command === 'migrate lead-conversions') await migrateLeadConversionsCommand(io);
    else if (command === 'smoke') return await smokeCommand(values, io);
    else if (command === 'config check') return await configCheckCommand(values, io);
    else if (command === 'rollback') await rollbackCommand(values, io, rollbackPort);
    else throw new UsageError(`unknown command: ${command}`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof RefusedError) {
      io.err(`Refused: ${error.message}`);
      return 3;
    }
    io.err(`Failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}
