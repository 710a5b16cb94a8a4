import type { Conversion } from '../conversions/model';
import {
  type ConversionPlan,
  type MatchingRules,
  planConversions,
  type WonDetails,
} from '../conversions/rules/plan';
import type { TenantScope } from '../tenancy/rules/scope';
import type { StoredLead } from './model';

export type { WonDetails };

/**
 * A lead becoming won, for every entry point that wins one (`PATCH /api/v1/leads/{id}`, a paid
 * order, a won opportunity): its conversions planned under the tenant's matching rules, then
 * queued, each once. No storage here; `deps` reach the rules and the queue.
 */
export interface WonDeps {
  /** The tenant's matching rules (which platforms are connected, user-data matching allowed). */
  rules(tenantId: string): Promise<MatchingRules>;
  /** Stores and queues a conversion; one whose id exists already is left alone. */
  queue(scope: TenantScope, conversion: Conversion): Promise<'queued' | 'exists'>;
}

/**
 * The conversions a won lead produces (conversions/plan.ts decides): one per ad platform it has
 * a click id for, and, for each connected platform it has none for, one matched on user data
 * when allowed; and why a connected platform gets none. Time and order id are fixed at `at`; the
 * ids derive from the order (or the lead), so winning it again cannot queue a second conversion.
 */
export async function planWon(
  deps: Pick<WonDeps, 'rules'>,
  scope: TenantScope,
  lead: StoredLead,
  details: WonDetails,
  at: Date,
): Promise<ConversionPlan> {
  return planConversions(lead, details, at, await deps.rules(scope.tenantId));
}

/** Queues a won lead's planned conversions, each once: those queued now (not those queued before). */
export async function queueWon(
  deps: Pick<WonDeps, 'queue'>,
  scope: TenantScope,
  conversions: readonly Conversion[],
): Promise<Conversion[]> {
  const queued: Conversion[] = [];
  for (const conversion of conversions) {
    if ((await deps.queue(scope, conversion)) === 'queued') queued.push(conversion);
  }
  return queued;
}

/** The conversions of a won lead under these rules (planWon without the tenant's lookup). */
export function conversionsForWon(
  lead: StoredLead,
  details: WonDetails,
  now: Date,
  rules: MatchingRules = {},
): Conversion[] {
  return planConversions(lead, details, now, rules).conversions;
}
