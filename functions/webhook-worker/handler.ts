import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { ChangeMessageVisibilityCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { METRICS } from '../../lib/definitions/metrics';
import { sqsClient } from '../shared/aws';
import { dlqUrl, queueUrl } from '../shared/config';
import { parseEnvelope, type WebhookEnvelope } from '../shared/envelope';
import {
  CORRELATION_ATTRIBUTE,
  correlationAttributes,
  emitMetric,
  logger,
  metrics,
  withCorrelation,
} from '../shared/observability';
import { sendAgainLater } from '../shared/queues/send-again';
import { waitPlan } from '../shared/queues/wait';
import { stripeOutcome } from '../shared/stripe/client';
import { DynamoHandledDeliveries } from '../shared/webhooks/handled';
import { PermanentFailure, type ProcessingResult, processEnvelope } from './processors';

const handledDeliveries = new DynamoHandledDeliveries();

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

/** Backoff of a failed delivery: 30 s, 60 s, 120 s, ... capped at 15 minutes. */
export function retryDelaySeconds(
  receiveCount: number,
  base = Number(process.env.WEBHOOK_RETRY_BASE_SECONDS ?? 30),
): number {
  return Math.min(900, Math.max(0, base) * 2 ** Math.max(0, receiveCount - 1));
}

/**
 * A failure that no retry can mend (malformed payload after a valid signature, unknown tenant):
 * the message goes to the dead-letter queue at once, with the reason, instead of round and round.
 */
async function deadLetter(record: SQSRecord, reason: string, source?: string): Promise<void> {
  await sqsClient().send(
    new SendMessageCommand({
      QueueUrl: dlqUrl('webhooks'),
      MessageBody: record.body,
      MessageAttributes: {
        reason: { DataType: 'String', StringValue: reason.slice(0, 512) },
        attempts: { DataType: 'Number', StringValue: record.attributes.ApproximateReceiveCount || '1' },
        ...(source ? { source: { DataType: 'String', StringValue: source } } : {}),
        ...correlationAttributes(),
      },
    }),
  );
  emitMetric(METRICS.webhookDeadLettered, 1, { sender: source ?? 'other' });
  logger.error('Webhook delivery dead-lettered', { message_id: record.messageId, reason });
}

/** Leaves a transiently failed message invisible for longer at each attempt (exponential backoff). */
async function backOff(record: SQSRecord): Promise<void> {
  const delay = retryDelaySeconds(Number(record.attributes.ApproximateReceiveCount || 1));
  try {
    await sqsClient().send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl('webhooks'),
        ReceiptHandle: record.receiptHandle,
        VisibilityTimeout: delay,
      }),
    );
  } catch (error) {
    logger.warn('Could not delay the retry of a webhook delivery', { message_id: record.messageId, error });
  }
}

/** Each delivery is handled under the request id that queued it (correlation across functions). */
async function recordHandler(record: SQSRecord): Promise<void> {
  const requestId = record.messageAttributes?.[CORRELATION_ATTRIBUTE]?.stringValue;
  if (requestId) logger.appendKeys({ correlation_id: requestId });
  try {
    await withCorrelation(requestId, () => handleRecord(record));
  } finally {
    if (requestId) logger.removeKeys(['correlation_id']);
  }
}

async function handleRecord(record: SQSRecord): Promise<void> {
  let envelope: WebhookEnvelope;
  try {
    envelope = parseEnvelope(record.body);
  } catch (error) {
    metrics.addMetric(METRICS.webhookEnvelopeInvalid, 'Count', 1);
    await deadLetter(record, error instanceof Error ? error.message : 'not a webhook envelope');
    return;
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
  } catch (error) {
    if (error instanceof PermanentFailure) {
      await deadLetter(record, error.message, envelope.source);
      return;
    }
    const wait = waitPlan(
      error,
      record,
      (e) => stripeOutcome(e) === 'failure',
      Number(process.env.WEBHOOK_RETRY_BASE_SECONDS ?? 30),
      Math.random(),
    );
    if (wait) {
      // Stripe is unwell: the delivery waits (a delayed copy) without spending its receives.
      await sendAgainLater('webhooks', record, wait.delaySeconds, wait.providerRetries);
      metrics.addMetric(METRICS.webhookWaiting, 'Count', 1);
      logger.warn('Webhook delivery waits for a provider', {
        source: envelope.source,
        delivery_id: envelope.delivery_id,
        reason: wait.reason,
        delay_seconds: wait.delaySeconds,
        provider_retries: wait.providerRetries,
      });
      return;
    }
    metrics.addMetric(METRICS.webhookRetried, 'Count', 1);
    logger.warn('Webhook delivery failed; it will be retried', {
      source: envelope.source,
      delivery_id: envelope.delivery_id,
      attempt: record.attributes.ApproximateReceiveCount,
      error,
    });
    await backOff(record);
    throw error;
  }
}

const processor = new BatchProcessor(EventType.SQS);

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .handler(async (event: SQSEvent, context: Context) => {
    return processPartialResponse(event, recordHandler, processor, {
      context,
      throwOnFullBatchFailure: false,
    });
  });
