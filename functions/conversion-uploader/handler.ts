import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSRecord } from 'aws-lambda';
import { METRICS } from '../../contract/metrics';
import { CONVERSIONS_CONSUMER_CONCURRENCY } from '../../contract/resources';
import { DynamoConversionStore } from '../shared/features/conversions/dynamo';
import { DynamoConversionLog } from '../shared/features/conversions/dynamo-log';
import {
  type AdjustmentMessage,
  parseQueueMessage,
  type RequestStatusMessage,
} from '../shared/features/conversions/model';
import type { ProviderRegistry } from '../shared/features/conversions/provider';
import { DynamoLeadStore } from '../shared/features/leads/dynamo';
import { breakerFor } from '../shared/platform/breaker/circuits';
import { guardedProvider } from '../shared/platform/breaker/provider';
import { openCredential } from '../shared/platform/crypto/credentials';
import { emitMetric, logger, metrics } from '../shared/platform/observability';
import { queueHandler, type Settlement } from '../shared/platform/queues/handler';
import { sendMessage } from '../shared/platform/queues/publisher';
import { providerRetriesOf } from '../shared/platform/queues/wait';
import { googleAdsOutcome } from '../shared/providers/google-ads/breaker';
import { ingestEvents, retrieveRequestStatus } from '../shared/providers/google-ads/data-manager/client';
import { perProcessLimit, QuotaPacer } from '../shared/providers/google-ads/data-manager/pacer';
import { warningReasonGroup } from '../shared/providers/google-ads/data-manager/results';
import {
  uploadClickConversions,
  uploadConversionAdjustments,
} from '../shared/providers/google-ads/google-ads-api/client';
import {
  CLIENT_SECRET_NAME,
  GoogleAdsIntegrationStore,
  REFRESH_TOKEN_NAME,
  type StoredGoogleAdsIntegration,
} from '../shared/providers/google-ads/integration';
import {
  dataManagerTransport,
  type GoogleConnectionDeps,
  type GoogleUploadApi,
  googleAdsApiTransport,
  googleProvider,
  uploadApi,
} from '../shared/providers/google-ads/provider';
import { TokenCache } from '../shared/providers/google-ads/tokens';
import { postEventsGuarded } from '../shared/providers/meta/breaker';
import { MetaIntegrationStore } from '../shared/providers/meta/dynamo';
import { ACCESS_TOKEN_NAME } from '../shared/providers/meta/integration';
import { metaProvider } from '../shared/providers/meta/provider';
import { adjustMessages, type QueuedAdjustment } from './adjust';
import { checkRequestStatus } from './status';
import { emptyMetrics, type QueuedMessage, scopeFor, type UploaderDeps, uploadMessages } from './upload';

/**
 * Consumes the conversions queue. Conversions are grouped by tenant and platform and handed to
 * the platform's provider (Google: the Data Manager API by default, or the Google Ads API with
 * GOOGLE_ADS_UPLOAD_API=google_ads_api), as few requests as possible (≤ 2,000 each). The same
 * queue carries the later reads of request statuses. Locally the poller hands over 10 messages at
 * a time; in AWS the event source mapping is tuned for large batches (docs/conversions.md, Google Ads conversions).
 */
const log = new DynamoConversionLog();
const store = new DynamoConversionStore();
const leads = new DynamoLeadStore();
const integrations = new GoogleAdsIntegrationStore();
/** Access tokens live as long as the execution environment: one refresh per hour per credential. */
const tokens = new TokenCache();
/** This process's share of the Data Manager quota (300 requests a minute per Cloud project). */
const pacer = new QuotaPacer(perProcessLimit(CONVERSIONS_CONSUMER_CONCURRENCY));

const google: GoogleConnectionDeps = {
  integrations,
  async credential(tenantId: string, integration: StoredGoogleAdsIntegration) {
    const scope = scopeFor(tenantId);
    return {
      clientId: integration.client_id,
      clientSecret: await openCredential(scope, CLIENT_SECRET_NAME, integration.sealed_client_secret),
      refreshToken: await openCredential(scope, REFRESH_TOKEN_NAME, integration.sealed_refresh_token),
    };
  },
  accessToken: (credential, requiredScope) => tokens.accessToken(credential, requiredScope),
  forgetToken: (credential) => tokens.forget(credential),
};

/** Meta's Conversions API: the tenant's pixel and its access token, opened per invocation. */
const meta = metaProvider({
  integrations: new MetaIntegrationStore(),
  accessToken: (tenantId, integration) =>
    openCredential(scopeFor(tenantId), ACCESS_TOKEN_NAME, integration.sealed_access_token),
  // Every Conversions API call goes through the shared meta breaker.
  post: (call) => postEventsGuarded(call),
  now: () => new Date(),
});

const registries = new Map<GoogleUploadApi, ProviderRegistry>();
/** The providers for the configured Google transport (read per invocation, built once). */
function providers(): ProviderRegistry {
  const api = uploadApi();
  let found = registries.get(api);
  if (!found) {
    const transport =
      api === 'data_manager'
        ? dataManagerTransport({ ingest: ingestEvents, retrieve: retrieveRequestStatus }, pacer)
        : googleAdsApiTransport((call) => uploadClickConversions(call));
    found = {
      // Every request to Google, whichever transport, goes through the shared google_ads breaker.
      google_ads: guardedProvider(
        googleProvider(google, transport, (call) => uploadConversionAdjustments(call)),
        breakerFor('google_ads'),
        googleAdsOutcome,
      ),
      meta,
    };
    registries.set(api, found);
  }
  return found;
}

async function scheduleStatusCheck(message: RequestStatusMessage, delaySeconds: number): Promise<void> {
  await sendMessage('conversions', { body: JSON.stringify(message), delaySeconds });
}

const firstStatusDelay = () => Number(process.env.CONVERSION_STATUS_CHECK_SECONDS ?? 60);

function deps(): UploaderDeps {
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

/** The alarm metric of each stopping failure, per platform. */
const STOP_METRICS: Partial<Record<string, Partial<Record<string, string>>>> = {
  google_ads: {
    disconnected: METRICS.googleAdsDisconnected,
    needs_reconnect: METRICS.googleAdsConfigurationError,
    needs_configuration: METRICS.googleAdsNeedsConfiguration,
    configuration: METRICS.googleAdsConfigurationError,
    platform: METRICS.googleAdsNotAllowlisted,
  },
  meta: {
    disconnected: METRICS.metaDisconnected,
    platform: METRICS.metaConfigurationError,
  },
};

/**
 * The whole batch at once: conversions grouped into requests per tenant and platform, then
 * adjustments and status reads; answers how each message ends.
 */
async function handleBatch(records: readonly SQSRecord[]): Promise<ReadonlyMap<string, Settlement>> {
  const queued: QueuedMessage[] = [];
  const statusChecks: RequestStatusMessage[] = [];
  const adjustments: QueuedAdjustment[] = [];
  const invalid = new Map<string, Settlement>();
  for (const record of records) {
    let data: unknown;
    try {
      data = JSON.parse(record.body);
    } catch {
      invalid.set(record.messageId, { kind: 'deadLetter', reason: 'not JSON' });
      continue;
    }
    const message = parseQueueMessage(data);
    if (!message) invalid.set(record.messageId, { kind: 'deadLetter', reason: 'not a conversion message' });
    else if (message.kind === 'request_status') statusChecks.push(message);
    else if (message.kind === 'conversion') {
      const { kind: _kind, ...conversion } = message;
      queued.push({
        messageId: record.messageId,
        message: conversion,
        receiveCount: Number(record.attributes.ApproximateReceiveCount || 1),
        providerRetries: providerRetriesOf(record),
      });
    } else
      adjustments.push({
        messageId: record.messageId,
        message,
        receiveCount: Number(record.attributes.ApproximateReceiveCount || 1),
        providerRetries: providerRetriesOf(record),
      });
  }
  const uploader = deps();
  const counts = emptyMetrics();
  const results = await uploadMessages(queued, uploader, counts);
  const adjusted = await adjustMessages(
    adjustments,
    {
      adjustments: {
        get: (tenantId, conversionId, id) => log.adjustment(tenantId, conversionId, id),
        record: (tenantId, conversionId, id, outcome, now) =>
          log.recordAdjustment(tenantId, conversionId, id, outcome, now),
        later: (message: AdjustmentMessage, delaySeconds) =>
          store.queueAdjustmentMessage(
            scopeFor(message.tenant_id),
            message.conversion_id,
            message.adjustment_id,
            delaySeconds,
          ),
      },
      conversions: uploader.conversions,
      leads,
      providers: uploader.providers,
      now: uploader.now,
      random: uploader.random,
      retryBaseSeconds: uploader.retryBaseSeconds,
      waitSeconds: Number(process.env.ADJUSTMENT_WAIT_SECONDS ?? 900),
    },
    counts,
  );
  for (const [id, result] of adjusted) results.set(id, result);
  for (const message of statusChecks) {
    // A status read that fails is not worth a retry of the message: the next upload is checked anew.
    try {
      await checkRequestStatus(message, {
        batch: (tenantId, id) => log.batch(tenantId, id),
        recordProcessing: (batch, processing) => log.recordProcessing(batch, processing),
        providers: uploader.providers,
        schedule: scheduleStatusCheck,
        now: () => new Date(),
        firstDelaySeconds: firstStatusDelay(),
      });
    } catch (error) {
      logger.warn('Could not read a request status', { batch_id: message.batch_id, error });
    }
  }
  metrics.addMetric(METRICS.conversionsUploaded, MetricUnit.Count, counts.uploaded);
  metrics.addMetric(METRICS.conversionsFailed, MetricUnit.Count, counts.failed);
  metrics.addMetric(METRICS.conversionsRetried, MetricUnit.Count, counts.retried);
  metrics.addMetric(METRICS.conversionsCancelled, MetricUnit.Count, counts.cancelled);
  metrics.addMetric(METRICS.conversionsWaiting, MetricUnit.Count, counts.waiting);
  for (const size of counts.batchSizes) metrics.addMetric(METRICS.uploadBatchSize, MetricUnit.Count, size);
  for (const ms of counts.latenciesMs) emitMetric(METRICS.uploadLatency, ms);
  for (const [platform, per] of Object.entries(counts.platforms)) {
    // Per platform (a low-cardinality dimension): events sent, failed, waiting, and request sizes.
    const single = metrics.singleMetric();
    single.addDimension('platform', platform);
    single.addMetric(METRICS.platformEventsSent, MetricUnit.Count, per.sent);
    single.addMetric(METRICS.platformEventsFailed, MetricUnit.Count, per.failed);
    single.addMetric(METRICS.platformEventsWaiting, MetricUnit.Count, per.waiting);
    for (const size of per.batchSizes) single.addMetric(METRICS.platformBatchSize, MetricUnit.Count, size);
    single.publishStoredMetrics();
    // Per platform and match kind (both closed sets): how many went out matched on a click id or on user data.
    for (const [match, sent] of Object.entries(per.sentByMatch)) {
      if (sent === 0) continue;
      const byMatch = metrics.singleMetric();
      byMatch.addDimension('platform', platform);
      byMatch.addDimension('match', match);
      byMatch.addMetric(METRICS.conversionsSentByMatch, MetricUnit.Count, sent);
      byMatch.publishStoredMetrics();
    }
  }
  // Field warnings: counted per reason group (a closed set), logged with the reason, no value.
  const perReason = new Map<string, number>();
  for (const warning of counts.fieldWarnings) {
    const group = warningReasonGroup(warning.reason);
    perReason.set(group, (perReason.get(group) ?? 0) + 1);
    logger.warn('Google accepted a conversion without one of its fields', {
      platform: warning.platform,
      reason: warning.reason,
      ...(warning.field !== undefined ? { field: warning.field } : {}),
      ...(warning.eventIndex !== undefined ? { event_index: warning.eventIndex } : {}),
      ...(warning.requestId !== undefined ? { google_request_id: warning.requestId } : {}),
      ...(warning.conversionId !== undefined ? { conversion_id: warning.conversionId } : {}),
    });
  }
  for (const [reason, count] of perReason)
    emitMetric(METRICS.dataManagerFieldWarnings, count, { warning_reason: reason });
  for (const stop of counts.stops) {
    const name = STOP_METRICS[stop.platform]?.[stop.kind];
    if (name) metrics.addMetric(name, MetricUnit.Count, 1);
  }
  logger.info('Conversion batch handled', {
    messages: records.length,
    uploaded: counts.uploaded,
    failed: counts.failed,
    retried: counts.retried,
    cancelled: counts.cancelled,
    waiting: counts.waiting,
    requests: counts.batchSizes.length,
    status_checks: statusChecks.length,
    adjustments: adjustments.length,
  });

  const settlements = new Map<string, Settlement>(results);
  for (const [id, settlement] of invalid) settlements.set(id, settlement);
  return settlements;
}

/** The conversions queue; a message waits, is retried after its own backoff, or is dead-lettered. */
export const handler = queueHandler('conversions', {
  noun: 'conversion message',
  handleBatch,
  onDeadLettered: () => metrics.addMetric(METRICS.conversionDeadLettered, MetricUnit.Count, 1),
});
