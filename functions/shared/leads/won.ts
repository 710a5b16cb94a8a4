import type { Conversion } from '../conversions/model';
import { type MatchingRules, planConversions, type WonDetails } from '../conversions/plan';
import type { StoredLead } from './model';

export type { WonDetails };

/**
 * The conversions a won lead produces (conversions/plan.ts decides): one per ad platform it has
 * a click id for, and, with `rules` naming the tenant's integrations, one matched on user data
 * for each connected platform that allows it. Time and order id are fixed now; the ids are
 * derived from the lead, so a repeated `won` cannot queue a second conversion.
 */
export function conversionsForWon(
  lead: StoredLead,
  details: WonDetails,
  now: Date,
  rules: MatchingRules = {},
): Conversion[] {
  return planConversions(lead, details, now, rules).conversions;
}
