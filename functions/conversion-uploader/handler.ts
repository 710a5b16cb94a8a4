import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSRecord } from 'aws-lambda';
import { METRICS } from '../../contract/metrics';
import { DynamoConversionStore } from '../shared/features/conversions/dynamo';
import { DynamoConversionLog } from '../shared/features/conversions/dynamo-log';
import type { RequestStatusMessage } from '../shared/features/conversions/model';
import { DynamoLeadStore } from '../shared/features/leads/dynamo';
import { logger, metrics } from '../shared/platform/observability';
import { queueHandler, type Settlement } from '../shared/platform/queues/handler';
import { sendMessage } from '../shared/platform/queues/publisher';
import { adjustMessages } from './adjust';
import { readBatch, scopeFor } from './messages';
import { emptyMetrics, publishMetrics } from './metrics';
import type { AdjustDeps, UploaderDeps } from './ports';
import { providers } from './providers';
import { checkRequestStatuses } from './status';
import { uploadMessages } from './upload';

/**
 * Consumes the conversions queue. Conversions are grouped by tenant and platform and handed to
 * the platform's provider (Google: the Data Manager API by default, or the Google Ads API with
 * GOOGLE_ADS_UPLOAD_API=google_ads_api), as few requests as possible (≤ 2,000 each). The same
 * queue carries adjustments and the later reads of request statuses. Locally the poller hands
 * over 10 messages at a time; in AWS the event source mapping is tuned for large batches
 * (docs/conversions.md, Google Ads conversions).
 */
const log = new DynamoConversionLog();
const store = new DynamoConversionStore();
const leads = new DynamoLeadStore();

async function scheduleStatusCheck(message: RequestStatusMessage, delaySeconds: number): Promise<void> {
  await sendMessage('conversions', { body: JSON.stringify(message), delaySeconds });
}

const firstStatusDelay = () => Number(process.env.CONVERSION_STATUS_CHECK_SECONDS ?? 60);

function uploaderDeps(): UploaderDeps {
  return {
    conversions: {
      get: (tenantId, id) => log.get(tenantId, id),
      recordAttempt: (tenantId, id, outcome, now) => log.recordAttempt(tenantId, id, outcome, now),
      recordBatch: (batch) => log.recordBatch(batch),
      cancel: (scope, id, reason) => store.cancel(scope, id, reason),
    },
    leads,
    providers: providers(),
    scheduleStatusCheck: (message) => scheduleStatusCheck(message, firstStatusDelay()),
    now: () => new Date(),
    random: Math.random,
    retryBaseSeconds: Number(process.env.CONVERSION_RETRY_BASE_SECONDS ?? 60),
  };
}

function adjustDeps(uploader: UploaderDeps): AdjustDeps {
  return {
    ...uploader,
    adjustments: {
      get: (tenantId, conversionId, id) => log.adjustment(tenantId, conversionId, id),
      record: (tenantId, conversionId, id, outcome, now) =>
        log.recordAdjustment(tenantId, conversionId, id, outcome, now),
      later: (message, delaySeconds) =>
        store.queueAdjustmentMessage(
          scopeFor(message.tenant_id),
          message.conversion_id,
          message.adjustment_id,
          delaySeconds,
        ),
    },
    waitSeconds: Number(process.env.ADJUSTMENT_WAIT_SECONDS ?? 900),
  };
}

/**
 * The whole batch at once: conversions grouped into requests per tenant and platform, then
 * adjustments and status reads; answers how each message ends.
 */
async function handleBatch(records: readonly SQSRecord[]): Promise<ReadonlyMap<string, Settlement>> {
  const batch = readBatch(records);
  const uploader = uploaderDeps();
  const counts = emptyMetrics();
  const settlements = new Map<string, Settlement>(await uploadMessages(batch.conversions, uploader, counts));
  for (const [id, result] of await adjustMessages(batch.adjustments, adjustDeps(uploader), counts))
    settlements.set(id, result);
  await checkRequestStatuses(batch.statusChecks, {
    batch: (tenantId, id) => log.batch(tenantId, id),
    recordProcessing: (processed, processing) => log.recordProcessing(processed, processing),
    providers: uploader.providers,
    schedule: scheduleStatusCheck,
    now: () => new Date(),
    firstDelaySeconds: firstStatusDelay(),
  });
  publishMetrics(counts);
  logger.info('Conversion batch handled', {
    messages: records.length,
    uploaded: counts.uploaded,
    failed: counts.failed,
    retried: counts.retried,
    cancelled: counts.cancelled,
    waiting: counts.waiting,
    requests: counts.batchSizes.length,
    status_checks: batch.statusChecks.length,
    adjustments: batch.adjustments.length,
  });
  for (const [id, settlement] of batch.invalid) settlements.set(id, settlement);
  return settlements;
}

/** The conversions queue; a message waits, is retried after its own backoff, or is dead-lettered. */
export const handler = queueHandler('conversions', {
  noun: 'conversion message',
  handleBatch,
  onDeadLettered: () => metrics.addMetric(METRICS.conversionDeadLettered, MetricUnit.Count, 1),
});
