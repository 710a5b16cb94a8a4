import type { Conversion } from '../../features/conversions/model';
import { leadEventConversionId } from '../../features/conversions/rules/plan';
import type { StoredLead } from '../../features/leads/model';
import type { TenantScope } from '../../features/tenancy/rules/scope';
import type { StoredMetaIntegration } from './integration';

/**
 * `lead_events`: with the tenant's Meta integration set so, a captured lead that carries an
 * fbclid is also a Meta `Lead` event, at the time it was captured. Its id derives from the lead,
 * so capturing the same lead again queues nothing new. No I/O here; `deps` reach the stores.
 */
export interface LeadEventDeps {
  integration(tenantId: string): Promise<StoredMetaIntegration | undefined>;
  queue(scope: TenantScope, conversion: Conversion): Promise<'queued' | 'exists'>;
}

/** The `Lead` conversion of a captured lead, or undefined when it has no fbclid. */
export function leadEventConversion(lead: StoredLead): Conversion | undefined {
  if (!lead.fbclid) return undefined;
  return {
    id: leadEventConversionId(lead.id),
    lead_id: lead.id,
    platform: 'meta',
    status: 'queued',
    attempts: 0,
    order_id: `lead-${lead.id}`,
    conversion_time: lead.created_at,
    event_name: 'Lead',
    match: 'click_id',
    click_id_type: 'fbclid',
    click_id: lead.fbclid,
    ...(lead.click_time ? { click_time: lead.click_time } : {}),
    created_at: lead.created_at,
    updated_at: lead.created_at,
  };
}

/** Queues the lead's `Lead` event when the tenant asked for them; whether one was queued. */
export async function queueLeadEvent(
  deps: LeadEventDeps,
  scope: TenantScope,
  lead: StoredLead,
): Promise<boolean> {
  const conversion = leadEventConversion(lead);
  if (!conversion || lead.restricted) return false;
  const integration = await deps.integration(scope.tenantId);
  if (!integration?.lead_events) return false;
  return (await deps.queue(scope, conversion)) === 'queued';
}
