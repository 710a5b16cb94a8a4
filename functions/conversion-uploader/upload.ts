import { randomUUID } from 'node:crypto';
import { platformOrgId } from '../shared/auth/context';
import type { AttemptOutcome, LoggedConversion, UploadBatchRecord } from '../shared/conversions/log';
import type { Conversion, ConversionMessage } from '../shared/conversions/model';
import {
  type FailureKind,
  GoogleAdsFailure,
  type OAuthCredential,
  type UploadAnswer,
  type UploadCall,
} from '../shared/google-ads/client';
import {
  chunks,
  clickConversion,
  rejectionReason,
  type UploadTarget,
  uploadRequest,
} from '../shared/google-ads/request';
import { type RowOutcome, rowOutcomes } from '../shared/google-ads/results';
import type { StoredGoogleAdsIntegration } from '../shared/google-ads/settings';
import { allowsUpload } from '../shared/leads/consent';
import type { StoredLead } from '../shared/leads/model';
import { inPool } from '../shared/pool';
import { platformScope, type TenantScope } from '../shared/tenancy/scope';

/**
 * The upload use case: queued conversion ids in, Google Ads requests out, outcomes written back
 * to the conversion log. No AWS SDK here; the handler gives the adapters.
 */

/** What becomes of one queue message. */
export type MessageResult =
  | { kind: 'done' }
  | { kind: 'retry'; delaySeconds: number; reason: string }
  | { kind: 'deadLetter'; reason: string };

export interface QueuedMessage {
  messageId: string;
  message: ConversionMessage;
  /** SQS ApproximateReceiveCount: 1 on the first delivery. */
  receiveCount: number;
}

export interface UploadMetrics {
  uploaded: number;
  failed: number;
  retried: number;
  cancelled: number;
  /** Conversions per Google request, one entry per request. */
  batchSizes: number[];
  latenciesMs: number[];
  disconnected: number;
  configurationErrors: number;
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
  integrations: {
    get(tenantId: string): Promise<StoredGoogleAdsIntegration | undefined>;
    disconnect(tenantId: string, reason: string): Promise<void>;
  };
  /** The tenant's OAuth credential, opened from its sealed secrets. */
  credential(tenantId: string, integration: StoredGoogleAdsIntegration): Promise<OAuthCredential>;
  accessToken(credential: OAuthCredential): Promise<string>;
  forgetToken(credential: OAuthCredential): void;
  upload(call: UploadCall): Promise<UploadAnswer>;
  now(): Date;
  /** 0 to 1; Math.random in production. */
  random(): number;
  retryBaseSeconds: number;
}

export const NOT_CONNECTED = 'Google Ads is not connected';
export const DISCONNECTED = 'Google Ads is disconnected: reconnect the account';

/** How long a TOO_RECENT_* conversion waits before it is sent again. */
export const RESCHEDULE_SECONDS = 6 * 3600;
/** SQS refuses a visibility timeout over 12 hours. */
const MAX_VISIBILITY_SECONDS = 12 * 3600;
/** DynamoDB calls in flight while a batch of up to 2,000 conversions is read and settled. */
const STORE_CONCURRENCY = 25;

/**
 * Backoff of a transient failure: base × 2^(attempt-1), capped at 15 minutes, with jitter (half
 * to all of it), never shorter than the delay Google asked for (429 `retryDelay`).
 */
export function retryDelaySeconds(
  receiveCount: number,
  base: number,
  random: number,
  retryAfter?: number,
): number {
  const exponential = Math.min(900, Math.max(0, base) * 2 ** Math.max(0, receiveCount - 1));
  const jittered = Math.round(exponential / 2 + (exponential / 2) * Math.min(1, Math.max(0, random)));
  return Math.min(MAX_VISIBILITY_SECONDS, Math.max(retryAfter ?? 0, jittered));
}

interface Row {
  conversion: LoggedConversion;
  lead?: StoredLead;
  messages: QueuedMessage[];
}

/** The queue message names the tenant; the uploader acts for it as a platform system actor. */
export function scopeFor(tenantId: string): TenantScope {
  const system = {
    tenantId: platformOrgId(),
    role: 'owner' as const,
    subject: 'conversion-uploader',
    method: 'jwt' as const,
  };
  return platformScope(system, tenantId);
}

export function emptyMetrics(): UploadMetrics {
  return {
    uploaded: 0,
    failed: 0,
    retried: 0,
    cancelled: 0,
    batchSizes: [],
    latenciesMs: [],
    disconnected: 0,
    configurationErrors: 0,
  };
}

/** Uploads the Google Ads conversions the messages name; one result per message id. */
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
    await uploadForTenant(tenantId, tenantMessages, deps, metrics, results);
  }
  return results;
}

async function uploadForTenant(
  tenantId: string,
  messages: QueuedMessage[],
  deps: UploaderDeps,
  metrics: UploadMetrics,
  results: Map<string, MessageResult>,
): Promise<void> {
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
      // Only Google Ads conversions are uploaded here. Meta conversions stay `queued` in the log
      // (gsi1, status queued) for the Meta uploader, which is not part of this issue: they are
      // neither sent nor marked failed.
      if (conversion.platform !== 'google_ads') {
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
      const rejected = rejectionReason(conversion, now);
      if (rejected) {
        if (await deps.conversions.recordAttempt(tenantId, id, { status: 'failed', error: rejected }, now))
          metrics.failed += 1;
        settle({ kind: 'done' });
        return undefined;
      }
      return { conversion, ...(lead ? { lead } : {}), messages: group };
    },
  );
  const rows = new Map<string, Row>();
  for (const row of screened) if (row) rows.set(row.conversion.id, row);
  if (rows.size === 0) return;

  const all = [...rows.values()];
  const integration = await deps.integrations.get(tenantId);
  if (!integration) {
    // The tenant never connected Google Ads: the conversion stays queued, saying so, and the
    // message is let go (no account is not an incident; nothing pages).
    for (const row of all) {
      await deps.conversions.recordAttempt(
        tenantId,
        row.conversion.id,
        { status: 'queued', error: NOT_CONNECTED, attempted: false },
        now,
      );
      settle(row, { kind: 'done' }, results);
    }
    return;
  }
  if (integration.status !== 'connected') {
    // Disconnected (revoked refresh token): parked in the dead-letter queue for a redrive once
    // the tenant reconnects.
    for (const row of all) settle(row, { kind: 'deadLetter', reason: DISCONNECTED }, results);
    return;
  }
  const target: UploadTarget = {
    customerId: integration.customer_id,
    conversionActionId: integration.conversion_action_id,
    timeZone: integration.time_zone,
    ...(integration.currency ? { currency: integration.currency } : {}),
  };
  let credential: OAuthCredential | undefined;
  for (const group of chunks(all)) {
    const started = Date.now();
    const batch: UploadBatchRecord = {
      id: randomUUID(),
      tenant_id: tenantId,
      customer_id: target.customerId,
      size: group.length,
      successes: 0,
      failures: 0,
      rescheduled: 0,
      duration_ms: 0,
      outcome: 'completed',
      created_at: now.toISOString(),
    };
    try {
      credential ??= await deps.credential(tenantId, integration);
      const accessToken = await deps.accessToken(credential);
      const answer = await deps.upload({
        customerId: target.customerId,
        ...(integration.login_customer_id ? { loginCustomerId: integration.login_customer_id } : {}),
        accessToken,
        body: uploadRequest(group.map((row) => clickConversion(row.conversion, row.lead, target))),
      });
      batch.duration_ms = Date.now() - started;
      metrics.batchSizes.push(group.length);
      metrics.latenciesMs.push(batch.duration_ms);
      if (answer.requestId) batch.google_request_id = answer.requestId;
      const outcomes = rowOutcomes(answer.body, group.length);
      await inPool(group, STORE_CONCURRENCY, (row, i) =>
        applyRow(tenantId, row, outcomes[i] as RowOutcome, answer.requestId, deps, metrics, batch, results),
      );
    } catch (error) {
      if (!(error instanceof GoogleAdsFailure)) throw error;
      batch.duration_ms = Date.now() - started;
      batch.outcome = error.kind === 'rejected' ? 'rejected' : error.kind;
      if (error.status === 401 && credential) deps.forgetToken(credential);
      await applyFailure(tenantId, group, error, deps, metrics, batch, results);
    }
    await deps.conversions.recordBatch(batch);
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
  batch: UploadBatchRecord,
  results: Map<string, MessageResult>,
): Promise<void> {
  const now = deps.now();
  const id = row.conversion.id;
  const withRequest = requestId ? { requestId } : {};
  if (outcome.kind === 'uploaded') {
    await deps.conversions.recordAttempt(tenantId, id, { status: 'uploaded', ...withRequest }, now);
    metrics.uploaded += 1;
    batch.successes += 1;
    settle(row, { kind: 'done' }, results);
  } else if (outcome.kind === 'failed') {
    await deps.conversions.recordAttempt(
      tenantId,
      id,
      { status: 'failed', error: outcome.reason, ...withRequest },
      now,
    );
    metrics.failed += 1;
    batch.failures += 1;
    settle(row, { kind: 'done' }, results);
  } else {
    const nextAttemptAt = new Date(now.getTime() + RESCHEDULE_SECONDS * 1000).toISOString();
    await deps.conversions.recordAttempt(
      tenantId,
      id,
      { status: 'rescheduled', error: outcome.reason, nextAttemptAt, ...withRequest },
      now,
    );
    metrics.retried += 1;
    batch.rescheduled += 1;
    settle(row, { kind: 'retry', delaySeconds: RESCHEDULE_SECONDS, reason: outcome.code }, results);
  }
}

const STOPPING: ReadonlySet<FailureKind> = new Set(['configuration', 'disconnected']);

async function applyFailure(
  tenantId: string,
  group: Row[],
  error: GoogleAdsFailure,
  deps: UploaderDeps,
  metrics: UploadMetrics,
  batch: UploadBatchRecord,
  results: Map<string, MessageResult>,
): Promise<void> {
  const now = deps.now();
  if (error.kind === 'disconnected') {
    await deps.integrations.disconnect(tenantId, error.message);
    metrics.disconnected += 1;
  }
  if (error.kind === 'configuration') metrics.configurationErrors += 1;
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
    // backoff (transient) or parked in the dead-letter queue until the tenant fixes its account.
    await deps.conversions.recordAttempt(
      tenantId,
      row.conversion.id,
      { status: 'queued', error: error.message },
      now,
    );
    if (STOPPING.has(error.kind)) {
      settle(row, { kind: 'deadLetter', reason: error.message }, results);
      continue;
    }
    metrics.retried += 1;
    for (const m of row.messages) {
      results.set(m.messageId, {
        kind: 'retry',
        delaySeconds: retryDelaySeconds(
          m.receiveCount,
          deps.retryBaseSeconds,
          deps.random(),
          error.retryAfterSeconds,
        ),
        reason: error.message,
      });
    }
  }
}
