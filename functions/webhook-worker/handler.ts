import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { dynamoClient } from '../shared/aws';
import { tableName } from '../shared/config';
import { parseEnvelope, type WebhookEnvelope } from '../shared/envelope';
import { logger, metrics } from '../shared/observability';
import { type ProcessingResult, processEnvelope } from './processors';

/** Seven days: longer than any sender retries a delivery. */
const DEDUP_SECONDS = 7 * 24 * 3600;

let idempotentProcess: ((envelope: WebhookEnvelope) => Promise<ProcessingResult>) | undefined;
const config = new IdempotencyConfig({
  eventKeyJmesPath: '[source, delivery_id]',
  expiresAfterSeconds: DEDUP_SECONDS,
});

/** The same (source, delivery id) is processed once, however often it is delivered. */
function processOnce(): (envelope: WebhookEnvelope) => Promise<ProcessingResult> {
  idempotentProcess ??= makeIdempotent((envelope: WebhookEnvelope) => processEnvelope(envelope), {
    persistenceStore: new DynamoDBPersistenceLayer({
      tableName: tableName('dedup'),
      keyAttr: 'pk',
      expiryAttr: 'expires_at',
      awsSdkV3Client: dynamoClient(),
    }),
    config,
    keyPrefix: 'WEBHOOK',
  });
  return idempotentProcess;
}

async function recordHandler(record: SQSRecord): Promise<void> {
  let envelope: WebhookEnvelope;
  try {
    envelope = parseEnvelope(record.body);
  } catch (error) {
    metrics.addMetric('WebhookEnvelopeInvalid', 'Count', 1);
    logger.error('Webhook message is not a valid envelope', { message_id: record.messageId, error });
    throw error;
  }
  const result = await processOnce()(envelope);
  metrics.addMetric(result.outcome === 'processed' ? 'WebhookProcessed' : 'WebhookIgnored', 'Count', 1);
  logger.info('Webhook delivery handled', {
    source: envelope.source,
    topic: envelope.topic,
    delivery_id: envelope.delivery_id,
    outcome: result.outcome,
  });
}

const processor = new BatchProcessor(EventType.SQS);

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .handler(async (event: SQSEvent, context: Context) => {
    config.registerLambdaContext(context);
    return processPartialResponse(event, recordHandler, processor, {
      context,
      throwOnFullBatchFailure: false,
    });
  });
