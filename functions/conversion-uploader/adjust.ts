import type { LoggedConversion } from '../shared/features/conversions/dynamo-log';
import type { Adjustment, AdjustmentMessage, AdjustmentStatus } from '../shared/features/conversions/model';
import {
  type AdjustmentRow,
  type ConversionProvider,
  type FailureKind,
  ProviderFailure,
  type ProviderRegistry,
  type RowOutcome,
} from '../shared/features/conversions/provider';
import type { StoredLead } from '../shared/features/leads/model';
import type { TenantScope } from '../shared/features/tenancy/scope';
import { CircuitOpenError } from '../shared/platform/breaker/breaker';
import { inPool } from '../shared/platform/pool';
import {
  afterTransientFailure,
  MAX_VISIBILITY_SECONDS,
  type MessageResult,
  RESCHEDULE_SECONDS,
  scopeFor,
  type UploadMetrics,
  waitForCircuit,
} from './upload';

/**
 * Sending adjustments (retractions, restatements) of uploaded conversions, grouped by tenant and
 * platform, with the uploader's rules: an adjustment waits while its conversion is not uploaded
 * yet, one already applied counts as done, transient failures back off, an account that stopped
 * parks its messages, and while the platform is unwell (its circuit open, or 5xx, 429 and
 * timeouts) the messages wait without spending the receives that lead to the dead-letter queue.
 * No AWS SDK here.
 */
export interface QueuedAdjustment {
  messageId: string;
  message: AdjustmentMessage;
  receiveCount: number;
  /** Waits for an unwell platform so far (the `provider_retries` attribute of the message). */
  providerRetries?: number;
}

export interface AdjustDeps {
  adjustments: {
    get(tenantId: string, conversionId: string, id: string): Promise<Adjustment | undefined>;
    record(
      tenantId: string,
      conversionId: string,
      id: string,
      outcome: { status: AdjustmentStatus; error?: string; requestId?: string; attempted?: boolean },
      now: Date,
    ): Promise<boolean>;
    /** Sends the message again later (while the conversion is still being uploaded). */
    later(message: AdjustmentMessage, delaySeconds: number): Promise<void>;
  };
  conversions: { get(tenantId: string, id: string): Promise<LoggedConversion | undefined> };
  leads: { get(scope: TenantScope, id: string): Promise<StoredLead | undefined> };
  providers: ProviderRegistry;
  now(): Date;
  random(): number;
  retryBaseSeconds: number;
  /** Between looks at a conversion not uploaded yet (ADJUSTMENT_WAIT_SECONDS, default 900). */
  waitSeconds?: number;
}

/** How long an adjustment waits between looks at a conversion not uploaded yet, and how many looks. */
export const WAIT_FOR_UPLOAD_SECONDS = 900;
export const MAX_WAITS = 24;
export const NEVER_UPLOADED = 'The conversion was never uploaded, so there is nothing to adjust';
/**
 * Failures that stop a tenant's adjustments: parked in the dead-letter queue for a redrive once
 * fixed (an adjustment has no waiting state in the log to be queued again from).
 */
const STOPPING: ReadonlySet<FailureKind> = new Set([
  'configuration',
  'disconnected',
  'needs_reconnect',
  'needs_configuration',
  'platform',
]);

interface Row extends AdjustmentRow {
  messages: QueuedAdjustment[];
}

export async function adjustMessages(
  messages: readonly QueuedAdjustment[],
  deps: AdjustDeps,
  metrics: UploadMetrics,
): Promise<Map<string, MessageResult>> {
  const results = new Map<string, MessageResult>();
  const byTenant = new Map<string, QueuedAdjustment[]>();
  for (const m of messages)
    byTenant.set(m.message.tenant_id, [...(byTenant.get(m.message.tenant_id) ?? []), m]);
  for (const [tenantId, list] of byTenant) {
    const rows = await screen(tenantId, list, deps, results);
    const byPlatform = new Map<string, Row[]>();
    for (const row of rows)
      byPlatform.set(row.conversion.platform, [...(byPlatform.get(row.conversion.platform) ?? []), row]);
    for (const [platform, platformRows] of byPlatform) {
      const provider = deps.providers[platform as keyof ProviderRegistry] as ConversionProvider<unknown>;
      await send(tenantId, provider, platformRows, deps, metrics, results);
    }
  }
  return results;
}

async function screen(
  tenantId: string,
  messages: QueuedAdjustment[],
  deps: AdjustDeps,
  results: Map<string, MessageResult>,
): Promise<Row[]> {
  const now = deps.now();
  const byId = new Map<string, QueuedAdjustment[]>();
  for (const m of messages) {
    const key = `${m.message.conversion_id}/${m.message.adjustment_id}`;
    byId.set(key, [...(byId.get(key) ?? []), m]);
  }
  const rows = await inPool([...byId.values()], 25, async (group): Promise<Row | undefined> => {
    const { conversion_id: conversionId, adjustment_id: id } = (group[0] as QueuedAdjustment).message;
    const settle = (result: MessageResult) => {
      for (const m of group) results.set(m.messageId, result);
    };
    const adjustment = await deps.adjustments.get(tenantId, conversionId, id);
    if (adjustment?.status !== 'queued') {
      settle({ kind: 'done' });
      return undefined;
    }
    const conversion = await deps.conversions.get(tenantId, conversionId);
    const provider = conversion ? deps.providers[conversion.platform] : undefined;
    if (!conversion || !provider?.adjust || ['failed', 'cancelled'].includes(conversion.status)) {
      const error = !conversion
        ? 'The conversion was erased'
        : !provider?.adjust
          ? `Adjustments are not supported for ${conversion.platform}`
          : NEVER_UPLOADED;
      await deps.adjustments.record(
        tenantId,
        conversionId,
        id,
        { status: 'failed', error, attempted: false },
        now,
      );
      settle({ kind: 'done' });
      return undefined;
    }
    if (conversion.status !== 'uploaded') {
      // Still on its way: look again later, a bounded number of times.
      if (adjustment.attempts >= MAX_WAITS) {
        await deps.adjustments.record(
          tenantId,
          conversionId,
          id,
          { status: 'failed', error: NEVER_UPLOADED },
          now,
        );
      } else {
        await deps.adjustments.record(
          tenantId,
          conversionId,
          id,
          { status: 'queued', error: 'Waiting for the conversion to be uploaded' },
          now,
        );
        await deps.adjustments.later(
          (group[0] as QueuedAdjustment).message,
          deps.waitSeconds ?? WAIT_FOR_UPLOAD_SECONDS,
        );
      }
      settle({ kind: 'done' });
      return undefined;
    }
    const lead = conversion.lead_id
      ? await deps.leads.get(scopeFor(tenantId), conversion.lead_id)
      : undefined;
    return { adjustment, conversion, ...(lead ? { lead } : {}), messages: group };
  });
  return rows.filter((row): row is Row => row !== undefined);
}

async function send(
  tenantId: string,
  provider: ConversionProvider<unknown>,
  rows: Row[],
  deps: AdjustDeps,
  metrics: UploadMetrics,
  results: Map<string, MessageResult>,
): Promise<void> {
  const now = deps.now();
  const settle = (row: Row, result: MessageResult) => {
    for (const m of row.messages) results.set(m.messageId, result);
  };
  const record = (row: Row, outcome: Parameters<AdjustDeps['adjustments']['record']>[3]) =>
    deps.adjustments.record(tenantId, row.conversion.id, row.adjustment.id, outcome, now);
  const connection = await provider.connect(tenantId);
  if (connection.kind === 'missing') {
    for (const row of rows) {
      await record(row, { status: 'queued', error: connection.reason, attempted: false });
      settle(row, { kind: 'done' });
    }
    return;
  }
  if (connection.kind === 'parked') {
    for (const row of rows) settle(row, { kind: 'deadLetter', reason: connection.reason });
    return;
  }
  const adjust = provider.adjust?.bind(provider);
  if (!adjust) return;
  for (let i = 0; i < rows.length; i += provider.maxPerRequest) {
    const group = rows.slice(i, i + provider.maxPerRequest);
    try {
      const sent = await adjust(connection.session, group, now);
      for (const request of sent.requests) {
        metrics.batchSizes.push(request.rows.length);
        metrics.latenciesMs.push(request.durationMs);
      }
      await inPool(group, 25, async (row, k) => {
        const outcome = sent.outcomes[k] as RowOutcome;
        const requestId = sent.requestIds[k];
        const withRequest = requestId ? { requestId } : {};
        if (outcome.kind === 'uploaded') {
          await record(row, { status: 'applied', ...withRequest });
          metrics.uploaded += 1;
          settle(row, { kind: 'done' });
        } else if (outcome.kind === 'failed') {
          await record(row, { status: 'failed', error: outcome.reason, ...withRequest });
          metrics.failed += 1;
          settle(row, { kind: 'done' });
        } else {
          await record(row, { status: 'queued', error: outcome.reason, ...withRequest });
          metrics.retried += 1;
          settle(row, {
            kind: 'retry',
            delaySeconds: Math.min(MAX_VISIBILITY_SECONDS, RESCHEDULE_SECONDS),
            reason: outcome.code,
          });
        }
      });
    } catch (error) {
      if (error instanceof CircuitOpenError && !(error.cause instanceof ProviderFailure)) {
        // Refused by the open circuit: no request was made; the adjustments wait for the platform.
        for (const row of group) {
          await record(row, { status: 'queued', error: `${error.message} (circuit open)`, attempted: false });
          metrics.waiting += 1;
          waitForCircuit(row.messages, error, error.message, deps, results);
        }
        continue;
      }
      const failure = error instanceof CircuitOpenError ? error.cause : error;
      if (!(failure instanceof ProviderFailure)) throw error;
      await provider.onFailure(tenantId, connection.session, failure);
      if (STOPPING.has(failure.kind)) metrics.stops.push({ platform: provider.platform, kind: failure.kind });
      for (const row of group) {
        if (failure.kind === 'rejected') {
          await record(row, { status: 'failed', error: failure.message });
          metrics.failed += 1;
          settle(row, { kind: 'done' });
          continue;
        }
        await record(row, { status: 'queued', error: failure.message });
        if (STOPPING.has(failure.kind)) settle(row, { kind: 'deadLetter', reason: failure.message });
        else if (error instanceof CircuitOpenError) {
          metrics.waiting += 1;
          waitForCircuit(row.messages, error, error.message, deps, results);
        } else if (afterTransientFailure(row.messages, failure, deps, results)) metrics.waiting += 1;
        else metrics.retried += 1;
      }
    }
  }
}
