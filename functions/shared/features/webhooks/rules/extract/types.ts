import type { LeadInput } from '../../../leads/schema';

/** The order a webhook describes, as the conversion it may become needs it. */
export interface OrderFacts {
  /** The sender's order (or opportunity) id, unique within the sender and tenant. */
  id: string;
  /** Whether the order has been paid (the opportunity won): only then is it a conversion. */
  paid: boolean;
  value?: number;
  /** ISO 4217, upper case. */
  currency?: string;
  /** ISO 8601 with offset: when the sender says the order was placed or paid. */
  occurredAt?: string;
}

/**
 * What a verified webhook payload comes to:
 * - `ignored`: a topic, event or payload that carries no lead (a ping, a deletion, an unknown event);
 * - `invalid`: a permanent failure, a payload no retry can mend (no usable email, no order id);
 * - `lead`: the lead to capture under the consent rules, with the order when there is one;
 * - `contact_order`: an order (a GoHighLevel opportunity) of a lead captured before, named by its
 *   external id only: it moves that lead, and creates none.
 */
export type Extraction =
  | { kind: 'ignored'; reason: string }
  | { kind: 'invalid'; reason: string }
  | { kind: 'lead'; lead: LeadInput; order?: OrderFacts }
  | { kind: 'reversal'; reversal: OrderReversal }
  | { kind: 'contact_order'; externalId: string; order: OrderFacts };

/** Money going back: a refund (full or partial) or a cancellation of an order already converted. */
export interface OrderReversal {
  /** The order, as in OrderFacts.id. */
  orderId: string;
  /** A refund and the amount it paid back; absent for a cancellation. */
  refund?: { id: string; amount: number; currency?: string };
  cancelled?: boolean;
  occurredAt?: string;
}

export const ignored = (reason: string): Extraction => ({ kind: 'ignored', reason });
export const invalid = (reason: string): Extraction => ({ kind: 'invalid', reason });
