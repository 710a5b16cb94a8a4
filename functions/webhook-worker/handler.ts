import type { SQSRecord } from 'aws-lambda';
import { METRICS } from '../../contract/metrics';
import { DynamoHandledDeliveries } from '../shared/features/webhooks/dynamo';
import { parseEnvelope, type WebhookEnvelope } from '../shared/features/webhooks/model';
import { emitMetric, logger, metrics } from '../shared/platform/observability';
import { queueHandler, type Settlement } from '../shared/platform/queues/handler';
import { waitPlan } from '../shared/platform/queues/wait';
import { stripeOutcome } from '../shared/providers/stripe/client';
import { PermanentFailure, type ProcessingResult, processEnvelope } from './processors';

const handledDeliveries = new DynamoHandledDeliveries();

/** Base of the backoff of a failed delivery: 30 s, 60 s, 120 s, ... capped at 15 minutes. */
const retryBaseSeconds = () => Number(process.env.WEBHOOK_RETRY_BASE_SECONDS ?? 30);

/**
 * The same (tenant, source, delivery id) is handled once however often it is delivered: once
 * handled, it is recorded, and a copy that finds the record is acknowledged. A delivery whose
 * handling failed is not recorded, so its retry handles it.
 */
async function processOnce(envelope: WebhookEnvelope): Promise<ProcessingResult> {
  const before = await handledDeliveries.find(envelope);
  if (before) return before;
  const result = await processEnvelope(envelope);
  await handledDeliveries.record(envelope, result);
  return result;
}

/**
 * One delivery. A failure that no retry can mend (malformed payload after a valid signature,
 * unknown tenant) is dead-lettered at once with the reason; while Stripe is unwell the delivery
 * waits; any other failure is retried with backoff.
 */
async function handleRecord(record: SQSRecord): Promise<Settlement | undefined> {
  let envelope: WebhookEnvelope;
  try {
    envelope = parseEnvelope(record.body);
  } catch (error) {
    metrics.addMetric(METRICS.webhookEnvelopeInvalid, 'Count', 1);
    return { kind: 'deadLetter', reason: error instanceof Error ? error.message : 'not a webhook envelope' };
  }
  try {
    const result = await processOnce(envelope);
    emitMetric(result.outcome === 'processed' ? METRICS.webhookProcessed : METRICS.webhookIgnored, 1);
    logger.info('Webhook delivery handled', {
      source: envelope.source,
      topic: envelope.topic,
      delivery_id: envelope.delivery_id,
      outcome: result.outcome,
    });
    return undefined;
  } catch (error) {
    if (error instanceof PermanentFailure)
      return { kind: 'deadLetter', reason: error.message, source: envelope.source };
    const wait = waitPlan(
      error,
      record,
      (e) => stripeOutcome(e) === 'failure',
      retryBaseSeconds(),
      Math.random(),
    );
    if (wait) {
      // Stripe is unwell: the delivery waits (a delayed copy) without spending its receives.
      return {
        kind: 'wait',
        delaySeconds: wait.delaySeconds,
        providerRetries: wait.providerRetries,
        onQueued: () => {
          metrics.addMetric(METRICS.webhookWaiting, 'Count', 1);
          logger.warn('Webhook delivery waits for a provider', {
            source: envelope.source,
            delivery_id: envelope.delivery_id,
            reason: wait.reason,
            delay_seconds: wait.delaySeconds,
            provider_retries: wait.providerRetries,
          });
        },
      };
    }
    metrics.addMetric(METRICS.webhookRetried, 'Count', 1);
    logger.warn('Webhook delivery failed; it will be retried', {
      source: envelope.source,
      delivery_id: envelope.delivery_id,
      attempt: record.attributes.ApproximateReceiveCount,
      error,
    });
    throw error;
  }
}

/** The webhooks queue: each delivery under the request id that queued it, failures retried with backoff. */
export const handler = queueHandler('webhooks', {
  noun: 'webhook delivery',
  handleRecord,
  backoff: { baseSeconds: retryBaseSeconds },
  onDeadLettered: ({ source }) => emitMetric(METRICS.webhookDeadLettered, 1, { sender: source ?? 'other' }),
});
