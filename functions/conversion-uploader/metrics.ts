import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS } from '../../contract/metrics';
import type { MatchKind, Platform } from '../shared/features/conversions/model';
import type { FailureKind } from '../shared/features/conversions/ports-provider';
import { emitMetric, logger, metrics } from '../shared/platform/observability';
import { warningReasonGroup } from '../shared/providers/google-ads/data-manager/results';

/**
 * What a batch of the conversions queue counts while it is handled (uploads and adjustments
 * alike), and how those counts become metrics once the batch is done.
 */
export interface UploadMetrics {
  uploaded: number;
  failed: number;
  retried: number;
  cancelled: number;
  /** Conversions whose messages wait for their platform (circuit open, or it failed while closed). */
  waiting: number;
  /** Conversions per platform request, one entry per request. */
  batchSizes: number[];
  latenciesMs: number[];
  /** Request-level failures that stop a tenant or the platform, by platform and kind. */
  stops: Array<{ platform: Platform; kind: FailureKind }>;
  /** Per platform: conversions sent (accepted), failed, left waiting, and the size of each request. */
  platforms: Partial<Record<Platform, PlatformCounts>>;
  /**
   * Optional fields the platform accepted conversions without (Data Manager `fieldWarnings`), one
   * entry per warning: the reason, the field's path in the event, the request and the conversion.
   */
  fieldWarnings: FieldWarningSeen[];
}

export interface FieldWarningSeen {
  platform: Platform;
  reason: string;
  field?: string;
  requestId?: string;
  /** The event's index in its request. */
  eventIndex?: number;
  conversionId?: string;
}

export interface PlatformCounts {
  sent: number;
  /** Of those sent, how many were matched on a click id and how many on user data. */
  sentByMatch: Record<MatchKind, number>;
  failed: number;
  waiting: number;
  batchSizes: number[];
}

export function emptyMetrics(): UploadMetrics {
  return {
    uploaded: 0,
    failed: 0,
    retried: 0,
    cancelled: 0,
    waiting: 0,
    batchSizes: [],
    latenciesMs: [],
    stops: [],
    platforms: {},
    fieldWarnings: [],
  };
}

export function countsOf(metrics: UploadMetrics, platform: Platform): PlatformCounts {
  metrics.platforms[platform] ??= {
    sent: 0,
    sentByMatch: { click_id: 0, user_data: 0 },
    failed: 0,
    waiting: 0,
    batchSizes: [],
  };
  return metrics.platforms[platform] as PlatformCounts;
}

/** The alarm metric of each stopping failure, per platform. */
const STOP_METRICS: Record<Platform, Partial<Record<FailureKind, string>>> = {
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

/** The batch's counts as metrics (per platform and match kind where that says more), and its field warnings. */
export function publishMetrics(counts: UploadMetrics): void {
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
}
