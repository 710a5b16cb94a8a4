import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { ChangeMessageVisibilityCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { METRICS } from '../../lib/definitions/metrics';
import { sqsClient } from '../shared/aws';
import { dlqUrl, queueUrl } from '../shared/config';
import { DynamoConversionLog } from '../shared/conversions/log';
import { conversionMessageV1 } from '../shared/conversions/model';
import { DynamoConversionStore } from '../shared/conversions/store';
import { openCredential } from '../shared/crypto/credentials';
import { TokenCache, uploadClickConversions } from '../shared/google-ads/client';
import {
  CLIENT_SECRET_NAME,
  GoogleAdsIntegrationStore,
  REFRESH_TOKEN_NAME,
  type StoredGoogleAdsIntegration,
} from '../shared/google-ads/settings';
import { DynamoLeadStore } from '../shared/leads/store';
import { CORRELATION_ATTRIBUTE, emitMetric, logger, metrics } from '../shared/observability';
import type { TenantScope } from '../shared/tenancy/scope';
import {
  emptyMetrics,
  type MessageResult,
  type QueuedMessage,
  scopeFor,
  type UploaderDeps,
  uploadMessages,
} from './upload';

/**
 * Consumes the conversions queue. A batch is grouped by tenant (one customer and conversion
 * action each) and sent as few `uploadClickConversions` requests as possible (≤ 2,000 each).
 * Locally the poller hands over 10 messages at a time; in AWS the event source mapping is tuned
 * for large batches (see README: batch size 10,000 with a batching window).
 */
const log = new DynamoConversionLog();
const store = new DynamoConversionStore();
const leads = new DynamoLeadStore();
const integrations = new GoogleAdsIntegrationStore();
/** Access tokens live as long as the execution environment: one refresh per hour per credential. */
const tokens = new TokenCache();

const deps: UploaderDeps = {
  conversions: {
    get: (tenantId, id) => log.get(tenantId, id),
    recordAttempt: (tenantId, id, outcome, now) => log.recordAttempt(tenantId, id, outcome, now),
    recordBatch: (batch) => log.recordBatch(batch),
    cancel: (scope: TenantScope, id, reason) => store.cancel(scope, id, reason),
  },
  leads,
  integrations,
  async credential(tenantId: string, integration: StoredGoogleAdsIntegration) {
    const scope = scopeFor(tenantId);
    return {
      clientId: integration.client_id,
      clientSecret: await openCredential(scope, CLIENT_SECRET_NAME, integration.sealed_client_secret),
      refreshToken: await openCredential(scope, REFRESH_TOKEN_NAME, integration.sealed_refresh_token),
    };
  },
  accessToken: (credential) => tokens.accessToken(credential),
  forgetToken: (credential) => tokens.forget(credential),
  upload: (call) => uploadClickConversions(call),
  now: () => new Date(),
  random: Math.random,
  get retryBaseSeconds() {
    return Number(process.env.CONVERSION_RETRY_BASE_SECONDS ?? 60);
  },
};

async function deadLetter(record: SQSRecord, reason: string): Promise<void> {
  await sqsClient().send(
    new SendMessageCommand({
      QueueUrl: dlqUrl('conversions'),
      MessageBody: record.body,
      MessageAttributes: {
        reason: { DataType: 'String', StringValue: reason.slice(0, 512) },
        attempts: { DataType: 'Number', StringValue: record.attributes.ApproximateReceiveCount || '1' },
      },
    }),
  );
  metrics.addMetric('ConversionDeadLettered', MetricUnit.Count, 1);
  logger.error('Conversion message dead-lettered', { message_id: record.messageId, reason });
}

async function delay(record: SQSRecord, seconds: number): Promise<void> {
  try {
    await sqsClient().send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl('conversions'),
        ReceiptHandle: record.receiptHandle,
        VisibilityTimeout: seconds,
      }),
    );
  } catch (error) {
    logger.warn('Could not delay the retry of a conversion', { message_id: record.messageId, error });
  }
}

/** Entries per correlation log line: a CloudWatch log event holds at most 256 KB. */
const CORRELATION_LOG_CHUNK = 500;

/** Which API request queued each conversion, so its path can be followed by request id. */
function logCorrelation(records: readonly SQSRecord[]): void {
  const entries = records.flatMap((record) => {
    const requestId = record.messageAttributes?.[CORRELATION_ATTRIBUTE]?.stringValue;
    return requestId ? [{ message_id: record.messageId, request_id: requestId }] : [];
  });
  for (let i = 0; i < entries.length; i += CORRELATION_LOG_CHUNK) {
    logger.info('Conversions received', { correlation: entries.slice(i, i + CORRELATION_LOG_CHUNK) });
  }
}

class RetryLater extends Error {
  override readonly name = 'RetryLater';
}

const processor = new BatchProcessor(EventType.SQS);

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .handler(async (event: SQSEvent, context: Context) => {
    const queued: QueuedMessage[] = [];
    const invalid = new Map<string, string>();
    for (const record of event.Records) {
      let parsed: ReturnType<typeof conversionMessageV1.safeParse>;
      try {
        parsed = conversionMessageV1.safeParse(JSON.parse(record.body));
      } catch {
        invalid.set(record.messageId, 'not JSON');
        continue;
      }
      if (!parsed.success) invalid.set(record.messageId, 'not a conversion message');
      else
        queued.push({
          messageId: record.messageId,
          message: parsed.data,
          receiveCount: Number(record.attributes.ApproximateReceiveCount || 1),
        });
    }
    logCorrelation(event.Records);
    const counts = emptyMetrics();
    const results = await uploadMessages(queued, deps, counts);
    const platform = { platform: 'google_ads' };
    emitMetric(METRICS.conversionsUploaded, counts.uploaded, platform);
    emitMetric(METRICS.conversionsFailed, counts.failed, platform);
    emitMetric(METRICS.conversionsRetried, counts.retried, platform);
    metrics.addMetric('ConversionsCancelled', MetricUnit.Count, counts.cancelled);
    for (const size of counts.batchSizes) emitMetric(METRICS.uploadBatchSize, size, platform);
    for (const ms of counts.latenciesMs) emitMetric(METRICS.uploadLatency, ms, platform);
    if (counts.disconnected)
      metrics.addMetric(METRICS.googleAdsDisconnected, MetricUnit.Count, counts.disconnected);
    if (counts.configurationErrors)
      metrics.addMetric(METRICS.googleAdsConfigurationError, MetricUnit.Count, counts.configurationErrors);
    logger.info('Conversion batch handled', {
      messages: event.Records.length,
      uploaded: counts.uploaded,
      failed: counts.failed,
      retried: counts.retried,
      cancelled: counts.cancelled,
      requests: counts.batchSizes.length,
    });

    const recordHandler = async (record: SQSRecord): Promise<void> => {
      const reason = invalid.get(record.messageId);
      if (reason) return deadLetter(record, reason);
      const result: MessageResult = results.get(record.messageId) ?? { kind: 'done' };
      if (result.kind === 'deadLetter') return deadLetter(record, result.reason);
      if (result.kind === 'retry') {
        await delay(record, result.delaySeconds);
        throw new RetryLater(result.reason);
      }
    };
    return processPartialResponse(event, recordHandler, processor, {
      context,
      throwOnFullBatchFailure: false,
    });
  });
