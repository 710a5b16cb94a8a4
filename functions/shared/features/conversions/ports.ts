import type { StoredLead } from '../leads/model';
import type { TenantScope } from '../tenancy/rules/scope';
import type { Conversion } from './model';

/**
 * What the data-subject rules need of a lead's conversions, whatever holds them (the DynamoDB
 * adapter is dynamo.ts).
 */
export interface LeadConversions {
  /** The lead's conversions, found by the ids they can have; with `includeExpired`, those not deleted yet too. */
  ofLead(
    scope: TenantScope,
    lead: Pick<StoredLead, 'id' | 'order_keys' | 'conversion_ids'>,
    options?: { includeExpired?: boolean },
  ): Promise<Conversion[]>;
  /** Cancels a conversion not uploaded yet; false when it left the queue or does not exist. */
  cancel(scope: TenantScope, id: string, reason: NonNullable<Conversion['cancel_reason']>): Promise<boolean>;
  /** Erasure: removes the conversion's personal data and cancels it if still queued. */
  erase(scope: TenantScope, conversion: Conversion): Promise<void>;
}
