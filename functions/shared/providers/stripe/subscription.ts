import type Stripe from 'stripe';

/**
 * What the platform keeps of a Stripe subscription: its status, customer (for the billing
 * portal) and the end of the current period. Since API version 2025-03-31 the period lives on
 * each subscription item (`items.data[].current_period_end`), no longer on the subscription.
 */
export interface SubscriptionSnapshot {
  subscription_id: string;
  customer_id: string;
  status: Stripe.Subscription.Status;
  tenant_id?: string;
  current_period_end?: number;
  cancel_at_period_end: boolean;
}

export function snapshotOf(subscription: Stripe.Subscription): SubscriptionSnapshot {
  const customer =
    typeof subscription.customer === 'string' ? subscription.customer : subscription.customer.id;
  const ends = (subscription.items?.data ?? [])
    .map((item) => item.current_period_end)
    .filter((end): end is number => typeof end === 'number');
  const tenantId = subscription.metadata?.tenant_id;
  return {
    subscription_id: subscription.id,
    customer_id: customer,
    status: subscription.status,
    ...(tenantId ? { tenant_id: tenantId } : {}),
    ...(ends.length ? { current_period_end: Math.max(...ends) } : {}),
    cancel_at_period_end: subscription.cancel_at_period_end === true,
  };
}
