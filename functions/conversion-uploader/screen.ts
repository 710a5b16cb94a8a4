import type { Conversion } from '../shared/features/conversions/model';
import type { StoredLead } from '../shared/features/leads/model';
import { allowsUpload } from '../shared/features/leads/rules/consent';
import { inPool } from '../shared/platform/pool';
import { groupBy, type Queued, type QueuedAdjustment, type QueuedMessage, scopeFor } from './messages';
import type { UploadMetrics } from './metrics';
import type { AdjustDeps, AdjustmentOutcome, UploaderDeps } from './ports';
import { MAX_VISIBILITY_SECONDS, type MessageResult, type Results, settle } from './results';
import { type AdjustmentToSend, type ConversionToSend, STORE_CONCURRENCY } from './send';

/**
 * What is to be sent: each queued conversion (or adjustment) read once with its lead, and what is
 * not to be sent settled here: gone, finished, waiting for its time, another platform's, consent
 * withdrawn, restricted, erased, invalid; an adjustment whose conversion is not uploaded yet.
 */

/** How long an adjustment waits between looks at a conversion not uploaded yet, and how many looks. */
export const WAIT_FOR_UPLOAD_SECONDS = 900;
export const MAX_WAITS = 24;
export const NEVER_UPLOADED = 'The conversion was never uploaded, so there is nothing to adjust';

/**
 * Looks once at each thing the messages name (a redrive can name one twice): a row to send, or
 * undefined once `look` has settled its messages.
 */
async function screenEach<Message, Row>(
  messages: readonly Queued<Message>[],
  keyOf: (message: Message) => string,
  results: Results,
  look: (group: Queued<Message>[], settleAll: (result: MessageResult) => void) => Promise<Row | undefined>,
): Promise<Row[]> {
  const groups = [...groupBy(messages, (m) => keyOf(m.message)).values()];
  const rows = await inPool(groups, STORE_CONCURRENCY, (group) =>
    look(group, (result) => settle(group, result, results)),
  );
  return rows.filter((row): row is Awaited<Row> => row !== undefined);
}

/** The conversions to upload of one tenant's messages, with their leads. */
export function screenConversions(
  tenantId: string,
  messages: readonly QueuedMessage[],
  deps: UploaderDeps,
  metrics: UploadMetrics,
  results: Results,
): Promise<ConversionToSend[]> {
  const scope = scopeFor(tenantId);
  const now = deps.now();
  return screenEach(
    messages,
    (m) => m.conversion_id,
    results,
    async (group, settleAll): Promise<ConversionToSend | undefined> => {
      const id = (group[0] as QueuedMessage).message.conversion_id;
      const conversion = await deps.conversions.get(tenantId, id);
      // Gone (erased), or no longer waiting (uploaded, failed, cancelled): nothing to send.
      if (!conversion || (conversion.status !== 'queued' && conversion.status !== 'rescheduled')) {
        settleAll({ kind: 'done' });
        return undefined;
      }
      // A platform without a provider here keeps its conversions queued (gsi1, status queued)
      // for the uploader that will have one: neither sent nor marked failed.
      const provider = deps.providers[conversion.platform];
      if (!provider) {
        settleAll({ kind: 'done' });
        return undefined;
      }
      if (conversion.next_attempt_at && Date.parse(conversion.next_attempt_at) > now.getTime()) {
        const wait = Math.ceil((Date.parse(conversion.next_attempt_at) - now.getTime()) / 1000);
        settleAll({
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
          settleAll({ kind: 'done' });
          return undefined;
        }
      }
      const row: ConversionToSend = { conversion, ...(lead ? { lead } : {}), messages: group };
      const rejected = provider.rejectionReason(row, now);
      if (rejected) {
        if (await deps.conversions.recordAttempt(tenantId, id, { status: 'failed', error: rejected }, now))
          metrics.failed += 1;
        settleAll({ kind: 'done' });
        return undefined;
      }
      return row;
    },
  );
}

/**
 * The adjustments to send of one tenant's messages, with their conversions (uploaded) and leads.
 * An adjustment waits while its conversion is not uploaded yet, a bounded number of times; one
 * already applied counts as done.
 */
export function screenAdjustments(
  tenantId: string,
  messages: readonly QueuedAdjustment[],
  deps: AdjustDeps,
  results: Results,
): Promise<AdjustmentToSend[]> {
  const now = deps.now();
  return screenEach(
    messages,
    (m) => `${m.conversion_id}/${m.adjustment_id}`,
    results,
    async (group, settleAll): Promise<AdjustmentToSend | undefined> => {
      const { message } = group[0] as QueuedAdjustment;
      const { conversion_id: conversionId, adjustment_id: id } = message;
      const record = (outcome: AdjustmentOutcome) =>
        deps.adjustments.record(tenantId, conversionId, id, outcome, now);
      const adjustment = await deps.adjustments.get(tenantId, conversionId, id);
      if (adjustment?.status !== 'queued') {
        settleAll({ kind: 'done' });
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
        await record({ status: 'failed', error, attempted: false });
        settleAll({ kind: 'done' });
        return undefined;
      }
      if (conversion.status !== 'uploaded') {
        // Still on its way: look again later, a bounded number of times.
        if (adjustment.attempts >= MAX_WAITS) {
          await record({ status: 'failed', error: NEVER_UPLOADED });
        } else {
          await record({ status: 'queued', error: 'Waiting for the conversion to be uploaded' });
          await deps.adjustments.later(message, deps.waitSeconds ?? WAIT_FOR_UPLOAD_SECONDS);
        }
        settleAll({ kind: 'done' });
        return undefined;
      }
      const lead = conversion.lead_id
        ? await deps.leads.get(scopeFor(tenantId), conversion.lead_id)
        : undefined;
      return { adjustment, conversion, ...(lead ? { lead } : {}), messages: group };
    },
  );
}
