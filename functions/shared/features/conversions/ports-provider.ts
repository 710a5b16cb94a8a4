import type { StoredLead } from '../leads/model';
import type { LoggedConversion } from './dynamo-log';
import type { Adjustment, ConversionFieldWarning, FailureKind, Platform, ProcessingStatus } from './model';

/**
 * What the conversion uploader asks of an ad platform. The uploader reads conversions and leads,
 * checks consent, groups by platform and tenant, keeps the conversion log, backs off, reschedules
 * and counts; a provider only knows its platform: the tenant's connection, the platform's own
 * rules, and how a group of conversions becomes requests and outcomes. No AWS SDK here.
 */

/** What became of one conversion sent. */
export type RowOutcome =
  | { kind: 'uploaded'; alreadyDelivered?: boolean; fieldWarnings?: ConversionFieldWarning[] }
  | { kind: 'failed'; reason: string; code?: string }
  /** Sent again later: after `afterSeconds`, else the uploader's reschedule delay (6 hours). */
  | { kind: 'rescheduled'; reason: string; code: string; afterSeconds?: number };

export type { FailureKind, ProcessingStatus };

export class ProviderFailure extends Error {
  override readonly name: string = 'ProviderFailure';
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly retryAfterSeconds?: number,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** One conversion with its lead (absent for a conversion by raw click id). */
export interface UploadRow {
  conversion: LoggedConversion;
  lead?: StoredLead;
}

/** One request the platform answered: which rows it carried and its request id. */
export interface SentRequest {
  requestId?: string;
  /** Indexes into the rows given to `send`. */
  rows: number[];
  durationMs: number;
  /** The platform processes the request later: its outcome is read with `requestStatus`. */
  processedLater?: boolean;
  /** Optional fields the platform could not use; `row` indexes the rows given to `send`. */
  fieldWarnings?: Array<ConversionFieldWarning & { row?: number }>;
}

export interface SendResult {
  /** One outcome per row, in order. */
  outcomes: RowOutcome[];
  /** The request id that carried each row (undefined for a row never accepted). */
  requestIds: Array<string | undefined>;
  requests: SentRequest[];
}

/** The tenant's connection to the platform, as the uploader needs to know it. */
export type Connection<Session> =
  /** Ready to send for this account (shown in the batch record). */
  | { kind: 'ready'; session: Session; account: string }
  /** Never connected: the conversion stays queued saying so; nothing pages. */
  | { kind: 'missing'; reason: string }
  /**
   * Connected but stopped (revoked, lacking a permission): parked until an admin reconnects.
   * `waits`: the conversions wait in the conversion log (queued, saying why) instead of the
   * dead-letter queue, and saving the integration again queues them again.
   */
  | { kind: 'parked'; reason: string; waits?: boolean };

export interface ConversionProvider<Session = unknown> {
  readonly platform: Platform;
  /** Low-cardinality name of the API used (`data_manager`, `google_ads_api`, ...). */
  readonly transport: string;
  /** Rows per `send` call at most. */
  readonly maxPerRequest: number;
  /**
   * A disconnected tenant's conversions wait in the conversion log (queued, saying why) and are
   * queued again when the tenant reconnects, instead of being parked in the dead-letter queue.
   */
  readonly waitsForReconnect?: boolean;
  connect(tenantId: string): Promise<Connection<Session>>;
  /** Why this conversion can never be sent (it is marked failed unsent), or undefined. */
  rejectionReason(row: UploadRow, now: Date): string | undefined;
  /** Sends up to `maxPerRequest` rows; request-level failures throw a ProviderFailure. */
  send(session: Session, rows: UploadRow[], now: Date): Promise<SendResult>;
  /** After a failure of the session: e.g. forget a refused access token, disconnect a revoked account. */
  onFailure(tenantId: string, session: Session | undefined, failure: ProviderFailure): Promise<void>;
  /** The processing outcome of an accepted request, for platforms that process later. */
  requestStatus?(session: Session, requestId: string): Promise<ProcessingStatus>;
  /**
   * Retractions and restatements of uploaded conversions, for platforms that have them; an
   * outcome per row (`uploaded` meaning applied, an adjustment already applied included).
   */
  adjust?(session: Session, rows: AdjustmentRow[], now: Date): Promise<SendResult>;
}

/** An adjustment to send, with its conversion (uploaded) and the conversion's lead. */
export interface AdjustmentRow {
  adjustment: Adjustment;
  conversion: LoggedConversion;
  lead?: StoredLead;
}

export type ProviderRegistry = Partial<Record<Platform, ConversionProvider<unknown>>>;
