import { randomUUID } from 'node:crypto';
import type {
  AttemptOutcome,
  LoggedConversion,
  UploadBatchRecord,
} from '../shared/features/conversions/dynamo-log';
import type {
  Conversion,
  ConversionMessage,
  MatchKind,
  Platform,
  RequestStatusMessage,
} from '../shared/features/conversions/model';
import {
  type ConversionProvider,
  type FailureKind,
  ProviderFailure,
  type ProviderRegistry,
  type RowOutcome,
  type SendResult,
  type UploadRow,
} from '../shared/features/conversions/provider';
import { matchOf } from '../shared/features/conversions/rules/plan';
import type { StoredLead } from '../shared/features/leads/model';
import { allowsUpload } from '../shared/features/leads/rules/consent';
import type { TenantScope } from '../shared/features/tenancy/scope';
import { CircuitOpenError } from '../shared/platform/breaker/breaker';
import { providerFailureOutcome } from '../shared/platform/breaker/provider';
import { inPool } from '../shared/platform/pool';
import { backoffSeconds } from '../shared/platform/queues/backoff';
import {
  circuitWaitSeconds,
  MAX_PROVIDER_RETRIES,
  providerRetrySeconds,
} from '../shared/platform/queues/wait';
import { systemScope } from '../shared/platform/system-scope';

/**
 * The upload use case, the same for every ad platform: queued conversion ids in, grouped by
 * platform and tenant, handed to that platform's provider, outcomes written back to the
 * conversion log. Reading conversions and leads, consent checks, the log, backoff, rescheduling
 * and metrics live here; the provider knows its platform. No AWS SDK here; the handler gives the
 * adapters.
 */

/**
 * What becomes of one queue message. `wait`: the platform is unwell or its circuit is open; the
 * message is sent again with a delay (`providerRetries` travels with it) instead of spending a
 * receive.
 */
export type MessageResult =
  | { kind: 'done' }
  | { kind: 'retry'; delaySeconds: number; reason: string }
  | { kind: 'wait'; delaySeconds: number; providerRetries: number; reason: string }
  | { kind: 'deadLetter'; reason: string };

export interface QueuedMessage {
  messageId: string;
  message: ConversionMessage;
  /** SQS ApproximateReceiveCount: 1 on the first delivery. */
  receiveCount: number;
  /** Waits after a platform failure while its circuit stayed closed (0 on a first delivery). */
  providerRetries?: number;
}

export interface UploadMetrics {
  uploaded: number;
  failed: number;
  retried: number;
  cancelled: number;
  /** Conversions whose messages wait for their platform (circuit open, or it failed while closed). */
  waiting: number;
  /** Conversions per platform request, one entry per request. */
  batchSizes: number[];
  latenciesMs: number[];
  /** Request-level failures that stop a tenant or the platform, by platform and kind. */
  stops: Array<{ platform: Platform; kind: FailureKind }>;
  /** Per platform: conversions sent (accepted), failed, left waiting, and the size of each request. */
  platforms: Partial<Record<Platform, PlatformCounts>>;
  /**
   * Optional fields the platform accepted conversions without (Data Manager `fieldWarnings`), one
   * entry per warning: the reason, the field's path in the event, the request and the conversion.
   */
  fieldWarnings: FieldWarningSeen[];
}

export interface FieldWarningSeen {
  platform: Platform;
  reason: string;
  field?: string;
  requestId?: string;
  /** The event's index in its request. */
  eventIndex?: number;
  conversionId?: string;
}

export interface PlatformCounts {
  sent: number;
  /** Of those sent, how many were matched on a click id and how many on user data. */
  sentByMatch: Record<MatchKind, number>;
  failed: number;
  waiting: number;
  batchSizes: number[];
}

export function countsOf(metrics: UploadMetrics, platform: Platform): PlatformCounts {
  metrics.platforms[platform] ??= {
    sent: 0,
    sentByMatch: { click_id: 0, user_data: 0 },
    failed: 0,
    waiting: 0,
    batchSizes: [],
  };
  return metrics.platforms[platform] as PlatformCounts;
}

export interface UploaderDeps {
  conversions: {
    get(tenantId: string, id: string): Promise<LoggedConversion | undefined>;
    recordAttempt(tenantId: string, id: string, outcome: AttemptOutcome, now: Date): Promise<boolean>;
    recordBatch(batch: UploadBatchRecord): Promise<void>;
    cancel(
      scope: TenantScope,
      id: string,
      reason: NonNullable<Conversion['cancel_reason']>,
    ): Promise<boolean>;
  };
  leads: { get(scope: TenantScope, id: string): Promise<StoredLead | undefined> };
  /** The provider of each platform uploaded here; conversions of another platform are left queued. */
  providers: ProviderRegistry;
  /** Schedules a later read of a request's processing outcome (platforms that process later). */
  scheduleStatusCheck?(message: RequestStatusMessage): Promise<void>;
  now(): Date;
  /** 0 to 1; Math.random in production. */
  random(): number;
  retryBaseSeconds: number;
}

/** How long a TOO_RECENT_* conversion waits before it is sent again. */
export const RESCHEDULE_SECONDS = 6 * 3600;
/** SQS refuses a visibility timeout over 12 hours. */
export const MAX_VISIBILITY_SECONDS = 12 * 3600;
/** DynamoDB calls in flight while a batch of up to 2,000 conversions is read and settled. */
const STORE_CONCURRENCY = 25;

/**
 * Backoff of a transient failure: base × 2^(attempt-1), capped at 15 minutes, with jitter (half
 * to all of it), never shorter than the delay the platform asked for (429 `retryDelay`).
 */
export function retryDelaySeconds(
  receiveCount: number,
  base: number,
  random: number,
  retryAfter?: number,
): number {
  return backoffSeconds(receiveCount - 1, {
    baseSeconds: base,
    random,
    atLeastSeconds: retryAfter ?? 0,
    maxSeconds: MAX_VISIBILITY_SECONDS,
  });
}

interface Row extends UploadRow {
  messages: QueuedMessage[];
}

/** The queue message names the tenant; the uploader acts for it as a platform system actor. */
export function scopeFor(tenantId: string): TenantScope {
  return systemScope('conversion-uploader', tenantId);
}

export function emptyMetrics(): UploadMetrics {
  return {
    uploaded: 0,
    failed: 0,
    retried: 0,
    cancelled: 0,
    waiting: 0,
    batchSizes: [],
    latenciesMs: [],
    stops: [],
    platforms: {},
    fieldWarnings: [],
  };
}

/** Uploads the conversions the messages name, by tenant and platform; one result per message id. */
export async function uploadMessages(
  messages: readonly QueuedMessage[],
  deps: UploaderDeps,
  metrics: UploadMetrics = emptyMetrics(),
): Promise<Map<string, MessageResult>> {
  const results = new Map<string, MessageResult>();
  const byTenant = new Map<string, QueuedMessage[]>();
  for (const m of messages) {
    const list = byTenant.get(m.message.tenant_id) ?? [];
    list.push(m);
    byTenant.set(m.message.tenant_id, list);
  }
  for (const [tenantId, tenantMessages] of byTenant) {
    // One tenant's trouble (configuration, revoked token, an outage answer) stays its own.
    const rows = await screen(tenantId, tenantMessages, deps, metrics, results);
    const byPlatform = new Map<Platform, Row[]>();
    for (const row of rows) {
      const list = byPlatform.get(row.conversion.platform) ?? [];
      list.push(row);
      byPlatform.set(row.conversion.platform, list);
    }
    for (const [platform, platformRows] of byPlatform) {
      const provider = deps.providers[platform] as ConversionProvider<unknown>;
      await uploadForTenant(tenantId, provider, platformRows, deps, metrics, results);
    }
  }
  return results;
}

/**
 * Reads each conversion and its lead once; settles what is not to be sent (gone, finished,
 * waiting for its time, another platform's, consent withdrawn, restricted, erased, invalid).
 */
async function screen(
  tenantId: string,
  messages: QueuedMessage[],
  deps: UploaderDeps,
  metrics: UploadMetrics,
  results: Map<string, MessageResult>,
): Promise<Row[]> {
  const scope = scopeFor(tenantId);
  const now = deps.now();
  // One row per conversion, however many messages name it (a redrive can duplicate one).
  const byConversion = new Map<string, QueuedMessage[]>();
  for (const m of messages) {
    const group = byConversion.get(m.message.conversion_id) ?? [];
    group.push(m);
    byConversion.set(m.message.conversion_id, group);
  }
  const screened = await inPool(
    [...byConversion],
    STORE_CONCURRENCY,
    async ([id, group]): Promise<Row | undefined> => {
      const settle = (result: MessageResult) => {
        for (const m of group) results.set(m.messageId, result);
      };
      const conversion = await deps.conversions.get(tenantId, id);
      // Gone (erased), or no longer waiting (uploaded, failed, cancelled): nothing to send.
      if (!conversion || (conversion.status !== 'queued' && conversion.status !== 'rescheduled')) {
        settle({ kind: 'done' });
        return undefined;
      }
      // A platform without a provider here keeps its conversions queued (gsi1, status queued)
      // for the uploader that will have one: neither sent nor marked failed.
      const provider = deps.providers[conversion.platform];
      if (!provider) {
        settle({ kind: 'done' });
        return undefined;
      }
      if (conversion.next_attempt_at && Date.parse(conversion.next_attempt_at) > now.getTime()) {
        const wait = Math.ceil((Date.parse(conversion.next_attempt_at) - now.getTime()) / 1000);
        settle({
          kind: 'retry',
          delaySeconds: Math.min(MAX_VISIBILITY_SECONDS, wait),
          reason: 'rescheduled',
        });
        return undefined;
      }
      let lead: StoredLead | undefined;
      if (conversion.lead_id) {
        lead = await deps.leads.get(scope, conversion.lead_id);
        const cancel: Conversion['cancel_reason'] = !lead
          ? 'erased'
          : lead.restricted
            ? 'restricted'
            : allowsUpload(lead.consent)
              ? undefined
              : 'consent_withdrawn';
        if (cancel) {
          await deps.conversions.cancel(scope, id, cancel);
          metrics.cancelled += 1;
          settle({ kind: 'done' });
          return undefined;
        }
      }
      const row: Row = { conversion, ...(lead ? { lead } : {}), messages: group };
      const rejected = provider.rejectionReason(row, now);
      if (rejected) {
        if (await deps.conversions.recordAttempt(tenantId, id, { status: 'failed', error: rejected }, now))
          metrics.failed += 1;
        settle({ kind: 'done' });
        return undefined;
      }
      return row;
    },
  );
  return screened.filter((row): row is Row => row !== undefined);
}

/** Failures that stop a tenant's uploads (parked in the dead-letter queue) rather than retry. */
const STOPPING: ReadonlySet<FailureKind> = new Set([
  'configuration',
  'disconnected',
  'needs_reconnect',
  'needs_configuration',
  'platform',
]);

async function uploadForTenant(
  tenantId: string,
  provider: ConversionProvider<unknown>,
  all: Row[],
  deps: UploaderDeps,
  metrics: UploadMetrics,
  results: Map<string, MessageResult>,
): Promise<void> {
  const now = deps.now();
  const connection = await provider.connect(tenantId);
  if (
    connection.kind === 'missing' ||
    (connection.kind === 'parked' && (provider.waitsForReconnect || connection.waits))
  ) {
    // The tenant never connected the platform (or, for a platform whose conversions wait for a
    // reconnect, is disconnected): the conversion stays queued, saying so, and the message is let
    // go (nothing pages again; connecting queues the waiting conversions again).
    await inPool(all, STORE_CONCURRENCY, async (row) => {
      await deps.conversions.recordAttempt(
        tenantId,
        row.conversion.id,
        { status: 'queued', error: connection.reason, attempted: false },
        now,
      );
      settle(row, { kind: 'done' }, results);
    });
    return;
  }
  if (connection.kind === 'parked') {
    // Stopped (revoked, lacking a permission): parked in the dead-letter queue for a redrive
    // once the tenant reconnects; the conversions stay queued.
    for (const row of all) settle(row, { kind: 'deadLetter', reason: connection.reason }, results);
    return;
  }
  const session = connection.session;
  for (let i = 0; i < all.length; i += provider.maxPerRequest) {
    const group = all.slice(i, i + provider.maxPerRequest);
    const started = Date.now();
    const batch = newBatch(tenantId, provider, connection.account, group, now);
    try {
      const sent = await provider.send(session, group, now);
      const counts = countsOf(metrics, provider.platform);
      for (const request of sent.requests) counts.batchSizes.push(request.rows.length);
      for (const [index, outcome] of sent.outcomes.entries()) {
        if (outcome.kind === 'uploaded') {
          counts.sent += 1;
          counts.sentByMatch[matchOf((group[index] as Row).conversion)] += 1;
        } else if (outcome.kind === 'failed') counts.failed += 1;
        else counts.waiting += 1;
      }
      await recordRequests(tenantId, provider, connection.account, group, sent, deps, metrics, now);
      await inPool(group, STORE_CONCURRENCY, (row, index) =>
        applyRow(
          tenantId,
          row,
          sent.outcomes[index] as RowOutcome,
          sent.requestIds[index],
          deps,
          metrics,
          results,
        ),
      );
      continue;
    } catch (error) {
      if (error instanceof CircuitOpenError && !(error.cause instanceof ProviderFailure)) {
        // Refused by the open circuit: no request was made, nothing to record but the wait.
        countsOf(metrics, provider.platform).waiting += group.length;
        await waitForPlatform(tenantId, group, error, deps, metrics, results);
        continue;
      }
      const failure = error instanceof CircuitOpenError ? error.cause : error;
      if (!(failure instanceof ProviderFailure)) throw error;
      batch.duration_ms = Date.now() - started;
      batch.outcome = failure.kind === 'rejected' ? 'rejected' : failure.kind;
      await provider.onFailure(tenantId, session, failure);
      if (STOPPING.has(failure.kind)) metrics.stops.push({ platform: provider.platform, kind: failure.kind });
      const counts = countsOf(metrics, provider.platform);
      if (failure.kind === 'rejected') counts.failed += group.length;
      else counts.waiting += group.length;
      if (error instanceof CircuitOpenError)
        await waitForPlatform(tenantId, group, error, deps, metrics, results);
      else
        await applyFailure(
          tenantId,
          group,
          failure,
          deps,
          metrics,
          batch,
          results,
          provider.waitsForReconnect,
        );
    }
    await deps.conversions.recordBatch(batch);
  }
}

function newBatch(
  tenantId: string,
  provider: ConversionProvider<unknown>,
  account: string,
  rows: Row[],
  now: Date,
): UploadBatchRecord {
  return {
    id: randomUUID(),
    tenant_id: tenantId,
    platform: provider.platform,
    transport: provider.transport,
    customer_id: account,
    size: rows.length,
    successes: 0,
    failures: 0,
    rescheduled: 0,
    duration_ms: 0,
    outcome: 'completed',
    conversion_ids: rows.map((row) => row.conversion.id),
    created_at: now.toISOString(),
  };
}

/** One batch record per request the platform answered; a status check for those processed later. */
async function recordRequests(
  tenantId: string,
  provider: ConversionProvider<unknown>,
  account: string,
  group: Row[],
  sent: SendResult,
  deps: UploaderDeps,
  metrics: UploadMetrics,
  now: Date,
): Promise<void> {
  for (const request of sent.requests) {
    const rows = request.rows.map((i) => group[i] as Row);
    const batch = newBatch(tenantId, provider, account, rows, now);
    batch.duration_ms = request.durationMs;
    for (const i of request.rows) {
      const outcome = sent.outcomes[i];
      if (outcome?.kind === 'uploaded') batch.successes += 1;
      else if (outcome?.kind === 'failed') batch.failures += 1;
      else if (outcome?.kind === 'rescheduled') batch.rescheduled += 1;
    }
    if (request.requestId) batch.google_request_id = request.requestId;
    for (const { row, ...warning } of request.fieldWarnings ?? []) {
      const eventIndex = row === undefined ? -1 : request.rows.indexOf(row);
      metrics.fieldWarnings.push({
        platform: provider.platform,
        ...warning,
        ...(request.requestId ? { requestId: request.requestId } : {}),
        ...(eventIndex >= 0 ? { eventIndex, conversionId: (group[row as number] as Row).conversion.id } : {}),
      });
    }
    metrics.batchSizes.push(rows.length);
    metrics.latenciesMs.push(request.durationMs);
    await deps.conversions.recordBatch(batch);
    if (request.processedLater && request.requestId && deps.scheduleStatusCheck)
      await deps.scheduleStatusCheck({
        version: 1,
        kind: 'request_status',
        tenant_id: tenantId,
        platform: provider.platform,
        batch_id: batch.id,
        checks: 0,
      });
  }
}

function settle(row: Row, result: MessageResult, results: Map<string, MessageResult>): void {
  for (const m of row.messages) results.set(m.messageId, result);
}

async function applyRow(
  tenantId: string,
  row: Row,
  outcome: RowOutcome,
  requestId: string | undefined,
  deps: UploaderDeps,
  metrics: UploadMetrics,
  results: Map<string, MessageResult>,
): Promise<void> {
  const now = deps.now();
  const id = row.conversion.id;
  const withRequest = requestId ? { requestId } : {};
  if (outcome.kind === 'uploaded') {
    const warnings = outcome.fieldWarnings?.length ? { fieldWarnings: outcome.fieldWarnings } : {};
    await deps.conversions.recordAttempt(
      tenantId,
      id,
      { status: 'uploaded', ...withRequest, ...warnings },
      now,
    );
    metrics.uploaded += 1;
    settle(row, { kind: 'done' }, results);
  } else if (outcome.kind === 'failed') {
    await deps.conversions.recordAttempt(
      tenantId,
      id,
      { status: 'failed', error: outcome.reason, ...withRequest },
      now,
    );
    metrics.failed += 1;
    settle(row, { kind: 'done' }, results);
  } else {
    const after = outcome.afterSeconds ?? RESCHEDULE_SECONDS;
    const nextAttemptAt = new Date(now.getTime() + after * 1000).toISOString();
    await deps.conversions.recordAttempt(
      tenantId,
      id,
      { status: 'rescheduled', error: outcome.reason, nextAttemptAt, ...withRequest },
      now,
    );
    metrics.retried += 1;
    settle(row, { kind: 'retry', delaySeconds: after, reason: outcome.code }, results);
  }
}

/**
 * The platform's circuit is open (refused, or this request's failure opened it): the conversions
 * stay queued saying so and their messages wait until it half-opens, as long as the outage lasts.
 */
async function waitForPlatform(
  tenantId: string,
  group: Row[],
  error: CircuitOpenError,
  deps: UploaderDeps,
  metrics: UploadMetrics,
  results: Map<string, MessageResult>,
): Promise<void> {
  const now = deps.now();
  const sent = error.cause instanceof ProviderFailure;
  const reason = sent ? (error.cause as ProviderFailure).message : `${error.message} (circuit open)`;
  await inPool(group, STORE_CONCURRENCY, (row) =>
    deps.conversions.recordAttempt(
      tenantId,
      row.conversion.id,
      { status: 'queued', error: reason, ...(sent ? {} : { attempted: false }) },
      now,
    ),
  );
  for (const row of group) {
    metrics.waiting += 1;
    waitForCircuit(row.messages, error, reason, deps, results);
  }
}

/**
 * Messages that wait for an open circuit: sent again when it half-opens (plus jitter), their
 * provider retries unchanged, as long as the outage lasts.
 */
export function waitForCircuit(
  messages: ReadonlyArray<{ messageId: string; providerRetries?: number }>,
  error: CircuitOpenError,
  reason: string,
  deps: { random(): number },
  results: Map<string, MessageResult>,
): void {
  const retryAfter = Number(error.extra.retry_after ?? 1);
  for (const m of messages) {
    results.set(m.messageId, {
      kind: 'wait',
      delaySeconds: circuitWaitSeconds(retryAfter, deps.random()),
      providerRetries: m.providerRetries ?? 0,
      reason,
    });
  }
}

async function applyFailure(
  tenantId: string,
  group: Row[],
  error: ProviderFailure,
  deps: UploaderDeps,
  metrics: UploadMetrics,
  batch: UploadBatchRecord,
  results: Map<string, MessageResult>,
  waitsForReconnect = false,
): Promise<void> {
  const now = deps.now();
  for (const row of group) {
    if (error.kind === 'rejected') {
      await deps.conversions.recordAttempt(
        tenantId,
        row.conversion.id,
        { status: 'failed', error: error.message },
        now,
      );
      metrics.failed += 1;
      batch.failures += 1;
      settle(row, { kind: 'done' }, results);
      continue;
    }
    // Still waiting: the conversion stays queued with the reason; the message is retried with
    // backoff (transient) or parked in the dead-letter queue until the account is fixed.
    await deps.conversions.recordAttempt(
      tenantId,
      row.conversion.id,
      { status: 'queued', error: error.message },
      now,
    );
    if ((error.kind === 'disconnected' && waitsForReconnect) || error.kind === 'needs_configuration') {
      // Waits in the log; connecting the platform again (or saving its settings) queues it again.
      settle(row, { kind: 'done' }, results);
      continue;
    }
    if (STOPPING.has(error.kind)) {
      settle(row, { kind: 'deadLetter', reason: error.message }, results);
      continue;
    }
    if (afterTransientFailure(row.messages, error, deps, results)) metrics.waiting += 1;
    else metrics.retried += 1;
  }
}

/**
 * What becomes of messages after a transient failure. When the failure says the platform is unwell
 * (its circuit still closed), each message waits with backoff without spending a receive, a
 * bounded number of times; otherwise, or after those, the ordinary counted retry. True when every
 * message waits.
 */
export function afterTransientFailure(
  messages: ReadonlyArray<{ messageId: string; receiveCount: number; providerRetries?: number }>,
  failure: ProviderFailure,
  deps: { retryBaseSeconds: number; random(): number },
  results: Map<string, MessageResult>,
): boolean {
  const unwell = providerFailureOutcome(failure) === 'failure';
  let waiting = 0;
  for (const m of messages) {
    const retries = m.providerRetries ?? 0;
    if (unwell && retries < MAX_PROVIDER_RETRIES) {
      waiting += 1;
      results.set(m.messageId, {
        kind: 'wait',
        delaySeconds: providerRetrySeconds(
          retries,
          deps.retryBaseSeconds,
          deps.random(),
          failure.retryAfterSeconds,
        ),
        providerRetries: retries + 1,
        reason: failure.message,
      });
    } else {
      results.set(m.messageId, {
        kind: 'retry',
        delaySeconds: retryDelaySeconds(
          m.receiveCount,
          deps.retryBaseSeconds,
          deps.random(),
          failure.retryAfterSeconds,
        ),
        reason: failure.message,
      });
    }
  }
  return waiting === messages.length;
}
