import type { AttemptOutcome } from '../shared/features/conversions/dynamo-log';
import type { Platform } from '../shared/features/conversions/model';
import {
  type AdjustmentRow,
  type ConversionProvider,
  type FailureKind,
  ProviderFailure,
  type RowOutcome,
  type SendResult,
  type UploadRow,
} from '../shared/features/conversions/ports-provider';
import { CircuitOpenError } from '../shared/platform/breaker/breaker';
import { inPool } from '../shared/platform/pool';
import { groupBy, type Queued, type QueuedAdjustment, type QueuedMessage } from './messages';
import type { UploadMetrics } from './metrics';
import type { SendingDeps } from './ports';
import { afterTransientFailure, RESCHEDULE_SECONDS, type Results, settle, waitForCircuit } from './results';

/**
 * The send path of uploads and adjustments alike: messages by tenant and platform, the tenant's
 * connection, requests of at most `maxPerRequest` rows through the platform's breaker (the
 * provider carries it), and what becomes of each row: its outcome written in its log by the use
 * case's ledger, counted, and its messages settled. While the platform is unwell (its circuit
 * open, or 5xx, 429 and timeouts) the messages wait without spending the receives that lead to
 * the dead-letter queue; an account that stopped parks them there.
 */

/** DynamoDB calls in flight while a batch of up to 2,000 rows is read and settled. */
export const STORE_CONCURRENCY = 25;

/** Failures that stop a tenant's sending (parked in the dead-letter queue) rather than retry. */
const STOPPING: ReadonlySet<FailureKind> = new Set([
  'configuration',
  'disconnected',
  'needs_reconnect',
  'needs_configuration',
  'platform',
]);

/** A row to send (a conversion, an adjustment), with the queue messages that name it. */
export interface Sendable {
  conversion: { platform: Platform };
  messages: ReadonlyArray<Queued<unknown>>;
}

/** A conversion to upload, with the messages that name it. */
export interface ConversionToSend extends UploadRow {
  messages: QueuedMessage[];
}

/** An adjustment to send, with the messages that name it. */
export interface AdjustmentToSend extends AdjustmentRow {
  messages: QueuedAdjustment[];
}

/** A request the platform answered or refused: the tenant's account there, and when it was sent. */
export interface Attempt {
  account: string;
  now: Date;
}

/** What differs between uploads and adjustments; the rest of the send path is the same for both. */
export interface Ledger<Row extends Sendable> {
  /** The provider's call for these rows: `send` for conversions, `adjust` for adjustments. */
  send(session: unknown, rows: Row[], now: Date): Promise<SendResult>;
  /** Writes a row's new state in its log, given in the conversion log's words. */
  record(row: Row, outcome: AttemptOutcome): Promise<unknown>;
  /**
   * Rows of a disconnected or unconfigured account may wait in their log (queued, saying why)
   * until connecting the platform again (or saving its settings) queues them again; without
   * that, their messages are parked in the dead-letter queue.
   */
  canWaitInLog: boolean;
  /** After the platform answered: what the use case keeps of its requests. */
  answered?(rows: Row[], sent: SendResult, attempt: Attempt): Promise<void>;
  /** After a request failed, its rows written and settled. */
  failed?(rows: Row[], failure: ProviderFailure, attempt: Attempt & { durationMs: number }): Promise<void>;
  /** After the open circuit refused a request (nothing was sent). */
  refused?(rows: Row[]): void;
}

/** A use case over the send path: which of its messages are to be sent, and its ledger. */
export interface UseCase<Message, Row extends Sendable> {
  /** The rows to send of one tenant's messages; the others are settled in `results`. */
  screen(tenantId: string, messages: Queued<Message>[], results: Results): Promise<Row[]>;
  ledger(tenantId: string, provider: ConversionProvider<unknown>): Ledger<Row>;
}

/** Sends what the messages name, by tenant and platform; one result per message id. */
export async function sendQueued<Message extends { tenant_id: string }, Row extends Sendable>(
  messages: readonly Queued<Message>[],
  useCase: UseCase<Message, Row>,
  deps: SendingDeps,
  metrics: UploadMetrics,
): Promise<Results> {
  const results: Results = new Map();
  for (const [tenantId, tenantMessages] of groupBy(messages, (m) => m.message.tenant_id)) {
    // One tenant's trouble (configuration, revoked token, an outage answer) stays its own.
    const rows = await useCase.screen(tenantId, tenantMessages, results);
    for (const [platform, platformRows] of groupBy(rows, (row) => row.conversion.platform)) {
      const provider = deps.providers[platform] as ConversionProvider<unknown>;
      const ledger = useCase.ledger(tenantId, provider);
      await sendRows(tenantId, provider, platformRows, ledger, deps, metrics, results);
    }
  }
  return results;
}

async function sendRows<Row extends Sendable>(
  tenantId: string,
  provider: ConversionProvider<unknown>,
  rows: Row[],
  ledger: Ledger<Row>,
  deps: SendingDeps,
  metrics: UploadMetrics,
  results: Results,
): Promise<void> {
  const now = deps.now();
  const connection = await provider.connect(tenantId);
  if (
    connection.kind === 'missing' ||
    (connection.kind === 'parked' && ledger.canWaitInLog && (provider.waitsForReconnect || connection.waits))
  ) {
    // The tenant never connected the platform (or, where rows wait for a reconnect, is
    // disconnected): the row stays queued, saying so, and the message is let go (nothing pages
    // again; connecting queues the waiting rows again).
    await inPool(rows, STORE_CONCURRENCY, async (row) => {
      await ledger.record(row, { status: 'queued', error: connection.reason, attempted: false });
      settle(row.messages, { kind: 'done' }, results);
    });
    return;
  }
  if (connection.kind === 'parked') {
    // Stopped (revoked, lacking a permission): parked in the dead-letter queue for a redrive
    // once the tenant reconnects; the rows stay queued.
    for (const row of rows) settle(row.messages, { kind: 'deadLetter', reason: connection.reason }, results);
    return;
  }
  const attempt: Attempt = { account: connection.account, now };
  for (let i = 0; i < rows.length; i += provider.maxPerRequest) {
    const group = rows.slice(i, i + provider.maxPerRequest);
    const started = Date.now();
    try {
      const sent = await ledger.send(connection.session, group, now);
      for (const request of sent.requests) {
        metrics.batchSizes.push(request.rows.length);
        metrics.latenciesMs.push(request.durationMs);
      }
      await ledger.answered?.(group, sent, attempt);
      await inPool(group, STORE_CONCURRENCY, (row, index) =>
        applyOutcome(
          row,
          sent.outcomes[index] as RowOutcome,
          sent.requestIds[index],
          ledger,
          deps,
          metrics,
          results,
        ),
      );
    } catch (error) {
      if (error instanceof CircuitOpenError && !(error.cause instanceof ProviderFailure)) {
        await waitForPlatform(group, error, ledger, deps, metrics, results);
        continue;
      }
      const failure = error instanceof CircuitOpenError ? error.cause : error;
      if (!(failure instanceof ProviderFailure)) throw error;
      const durationMs = Date.now() - started;
      await provider.onFailure(tenantId, connection.session, failure);
      if (STOPPING.has(failure.kind)) metrics.stops.push({ platform: provider.platform, kind: failure.kind });
      for (const row of group) {
        if (failure.kind === 'rejected') {
          await ledger.record(row, { status: 'failed', error: failure.message });
          metrics.failed += 1;
          settle(row.messages, { kind: 'done' }, results);
          continue;
        }
        // Still waiting: the row stays queued with the reason; the message waits for the circuit
        // this failure opened, is retried with backoff (transient) or parked in the dead-letter
        // queue until the account is fixed.
        await ledger.record(row, { status: 'queued', error: failure.message });
        if (error instanceof CircuitOpenError) {
          metrics.waiting += 1;
          waitForCircuit(row.messages, error, failure.message, deps, results);
        } else if (
          ledger.canWaitInLog &&
          ((failure.kind === 'disconnected' && provider.waitsForReconnect) ||
            failure.kind === 'needs_configuration')
        ) {
          // Waits in the log; connecting the platform again (or saving its settings) queues it again.
          settle(row.messages, { kind: 'done' }, results);
        } else if (STOPPING.has(failure.kind)) {
          settle(row.messages, { kind: 'deadLetter', reason: failure.message }, results);
        } else if (afterTransientFailure(row.messages, failure, deps, results)) metrics.waiting += 1;
        else metrics.retried += 1;
      }
      await ledger.failed?.(group, failure, { ...attempt, durationMs });
    }
  }
}

/** One row the platform answered for: written with its outcome, its messages done or retried later. */
async function applyOutcome<Row extends Sendable>(
  row: Row,
  outcome: RowOutcome,
  requestId: string | undefined,
  ledger: Ledger<Row>,
  deps: SendingDeps,
  metrics: UploadMetrics,
  results: Results,
): Promise<void> {
  const withRequest = requestId ? { requestId } : {};
  if (outcome.kind === 'uploaded') {
    const warnings = outcome.fieldWarnings?.length ? { fieldWarnings: outcome.fieldWarnings } : {};
    await ledger.record(row, { status: 'uploaded', ...withRequest, ...warnings });
    metrics.uploaded += 1;
    settle(row.messages, { kind: 'done' }, results);
  } else if (outcome.kind === 'failed') {
    await ledger.record(row, { status: 'failed', error: outcome.reason, ...withRequest });
    metrics.failed += 1;
    settle(row.messages, { kind: 'done' }, results);
  } else {
    const after = outcome.afterSeconds ?? RESCHEDULE_SECONDS;
    const nextAttemptAt = new Date(deps.now().getTime() + after * 1000).toISOString();
    await ledger.record(row, { status: 'rescheduled', error: outcome.reason, nextAttemptAt, ...withRequest });
    metrics.retried += 1;
    settle(row.messages, { kind: 'retry', delaySeconds: after, reason: outcome.code }, results);
  }
}

/**
 * The open circuit refused the request (nothing was sent): the rows stay queued saying so, without
 * an attempt, and their messages wait until it half-opens, as long as the outage lasts.
 */
async function waitForPlatform<Row extends Sendable>(
  group: Row[],
  error: CircuitOpenError,
  ledger: Ledger<Row>,
  deps: SendingDeps,
  metrics: UploadMetrics,
  results: Results,
): Promise<void> {
  const reason = `${error.message} (circuit open)`;
  await inPool(group, STORE_CONCURRENCY, (row) =>
    ledger.record(row, { status: 'queued', error: reason, attempted: false }),
  );
  for (const row of group) {
    metrics.waiting += 1;
    waitForCircuit(row.messages, error, reason, deps, results);
  }
  ledger.refused?.(group);
}
