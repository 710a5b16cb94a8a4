import { randomUUID } from 'node:crypto';
import type { AttemptOutcome, UploadBatchRecord } from '../shared/features/conversions/dynamo-log';
import type { ConversionProvider, SendResult } from '../shared/features/conversions/ports-provider';
import { matchOf } from '../shared/features/conversions/rules/plan';
import { countsOf, type UploadMetrics } from './metrics';
import type { AdjustDeps, AdjustmentOutcome, UploaderDeps } from './ports';
import type { AdjustmentToSend, Attempt, ConversionToSend, Ledger } from './send';

/**
 * How each use case writes down what the send path decides. An upload keeps its attempt in the
 * conversion log, a batch record per request (with the platform's request id, the field warnings
 * and a later read of its status where the platform processes later) and per-platform counts; an
 * adjustment keeps its attempt on the adjustment.
 */

/** An upload's ledger: attempts in the conversion log, batch records, per-platform counts. */
export function conversionLedger(
  tenantId: string,
  provider: ConversionProvider<unknown>,
  deps: UploaderDeps,
  metrics: UploadMetrics,
): Ledger<ConversionToSend> {
  const counts = () => countsOf(metrics, provider.platform);
  return {
    send: (session, rows, now) => provider.send(session, rows, now),
    record: (row, outcome) =>
      deps.conversions.recordAttempt(tenantId, row.conversion.id, outcome, deps.now()),
    canWaitInLog: true,
    async answered(rows, sent, attempt) {
      const perPlatform = counts();
      for (const request of sent.requests) perPlatform.batchSizes.push(request.rows.length);
      for (const [index, outcome] of sent.outcomes.entries()) {
        if (outcome.kind === 'uploaded') {
          perPlatform.sent += 1;
          perPlatform.sentByMatch[matchOf((rows[index] as ConversionToSend).conversion)] += 1;
        } else if (outcome.kind === 'failed') perPlatform.failed += 1;
        else perPlatform.waiting += 1;
      }
      await recordRequests(tenantId, provider, rows, sent, attempt, deps, metrics);
    },
    async failed(rows, failure, attempt) {
      const rejected = failure.kind === 'rejected';
      if (rejected) counts().failed += rows.length;
      else counts().waiting += rows.length;
      const batch = newBatch(tenantId, provider, attempt, rows);
      batch.duration_ms = attempt.durationMs;
      batch.outcome = rejected ? 'rejected' : failure.kind;
      if (rejected) batch.failures = rows.length;
      await deps.conversions.recordBatch(batch);
    },
    refused(rows) {
      counts().waiting += rows.length;
    },
  };
}

/** An attempt in the adjustment's words: `applied` for uploaded; one to send later stays queued. */
function adjustmentOutcome({
  status,
  nextAttemptAt: _,
  fieldWarnings: __,
  ...rest
}: AttemptOutcome): AdjustmentOutcome {
  return {
    ...rest,
    status: status === 'uploaded' ? 'applied' : status === 'rescheduled' ? 'queued' : status,
  };
}

/** An adjustment's ledger: its attempts on the adjustment, nothing more. */
export function adjustmentLedger(
  tenantId: string,
  provider: ConversionProvider<unknown>,
  deps: AdjustDeps,
): Ledger<AdjustmentToSend> {
  // Screening lets through only the adjustments of a platform that has them.
  const adjust = provider.adjust as NonNullable<ConversionProvider<unknown>['adjust']>;
  return {
    send: (session, rows, now) => adjust.call(provider, session, rows, now),
    record: (row, outcome) =>
      deps.adjustments.record(
        tenantId,
        row.conversion.id,
        row.adjustment.id,
        adjustmentOutcome(outcome),
        deps.now(),
      ),
    // An adjustment has no waiting state in the log to be queued again from: a stopped account
    // parks its messages for a redrive once fixed.
    canWaitInLog: false,
  };
}

function newBatch(
  tenantId: string,
  provider: ConversionProvider<unknown>,
  attempt: Attempt,
  rows: ConversionToSend[],
): UploadBatchRecord {
  return {
    id: randomUUID(),
    tenant_id: tenantId,
    platform: provider.platform,
    transport: provider.transport,
    customer_id: attempt.account,
    size: rows.length,
    successes: 0,
    failures: 0,
    rescheduled: 0,
    duration_ms: 0,
    outcome: 'completed',
    conversion_ids: rows.map((row) => row.conversion.id),
    created_at: attempt.now.toISOString(),
  };
}

/** One batch record per request the platform answered; a status check for those processed later. */
async function recordRequests(
  tenantId: string,
  provider: ConversionProvider<unknown>,
  group: ConversionToSend[],
  sent: SendResult,
  attempt: Attempt,
  deps: UploaderDeps,
  metrics: UploadMetrics,
): Promise<void> {
  for (const request of sent.requests) {
    const rows = request.rows.map((i) => group[i] as ConversionToSend);
    const batch = newBatch(tenantId, provider, attempt, rows);
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
        ...(eventIndex >= 0
          ? { eventIndex, conversionId: (group[row as number] as ConversionToSend).conversion.id }
          : {}),
      });
    }
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
