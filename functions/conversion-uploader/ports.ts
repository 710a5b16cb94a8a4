import type {
  AttemptOutcome,
  LoggedConversion,
  UploadBatchRecord,
} from '../shared/features/conversions/dynamo-log';
import type {
  Adjustment,
  AdjustmentMessage,
  AdjustmentStatus,
  Conversion,
  RequestStatusMessage,
} from '../shared/features/conversions/model';
import type { ProviderRegistry } from '../shared/features/conversions/ports-provider';
import type { StoredLead } from '../shared/features/leads/model';
import type { TenantScope } from '../shared/features/tenancy/rules/scope';
import type { RetryDeps } from './results';

/**
 * What the uploader needs of the world, whatever holds it: the conversion log, the adjustments,
 * the leads, the platforms' providers and a clock. The handler gives the DynamoDB and SQS
 * adapters; no AWS SDK here.
 */

/** What uploads and adjustments both reach. */
export interface SendingDeps extends RetryDeps {
  leads: { get(scope: TenantScope, id: string): Promise<StoredLead | undefined> };
  /** The provider of each platform uploaded here; conversions of another platform are left queued. */
  providers: ProviderRegistry;
  now(): Date;
}

export interface UploaderDeps extends SendingDeps {
  conversions: {
    get(tenantId: string, id: string): Promise<LoggedConversion | undefined>;
    recordAttempt(tenantId: string, id: string, outcome: AttemptOutcome, now: Date): Promise<boolean>;
    recordBatch(batch: UploadBatchRecord): Promise<void>;
    cancel(
      scope: TenantScope,
      id: string,
      reason: NonNullable<Conversion['cancel_reason']>,
    ): Promise<boolean>;
  };
  /** Schedules a later read of a request's processing outcome (platforms that process later). */
  scheduleStatusCheck?(message: RequestStatusMessage): Promise<void>;
}

/** An adjustment's outcome as its record keeps it. */
export type AdjustmentOutcome = {
  status: AdjustmentStatus;
  error?: string;
  requestId?: string;
  attempted?: boolean;
};

export interface AdjustDeps extends SendingDeps {
  adjustments: {
    get(tenantId: string, conversionId: string, id: string): Promise<Adjustment | undefined>;
    record(
      tenantId: string,
      conversionId: string,
      id: string,
      outcome: AdjustmentOutcome,
      now: Date,
    ): Promise<boolean>;
    /** Sends the message again later (while the conversion is still being uploaded). */
    later(message: AdjustmentMessage, delaySeconds: number): Promise<void>;
  };
  conversions: { get(tenantId: string, id: string): Promise<LoggedConversion | undefined> };
  /** Between looks at a conversion not uploaded yet (ADJUSTMENT_WAIT_SECONDS, default 900). */
  waitSeconds?: number;
}
