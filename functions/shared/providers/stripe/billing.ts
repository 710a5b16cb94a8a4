import type * as z from 'zod/mini';
import type { Tenant } from '../../features/tenancy/model';
import { DependencyUnavailableError, DomainNotFoundError } from '../../platform/errors/domain';
import { isMissing, type StripeGateway, stripeOutcome } from './client';
import type { billingStatusResponse } from './schema';

/**
 * The tenant-facing billing use cases: the subscription status the platform holds (kept current
 * from Stripe by the webhook worker, so reading it needs no call to Stripe), and a Stripe billing
 * portal session for the tenant's customer. The portal URL is a short-lived credential for that
 * customer: it is returned to the caller and never logged.
 */
export type BillingStatus = z.infer<typeof billingStatusResponse>;

export function billingStatus(tenant: Tenant): BillingStatus {
  const billing = tenant.billing;
  return {
    status: billing?.status ?? 'none',
    subscription_id: billing?.subscription_id ?? null,
    current_period_end:
      billing?.current_period_end !== undefined
        ? new Date(billing.current_period_end * 1000).toISOString()
        : null,
    cancel_at_period_end: billing?.cancel_at_period_end ?? false,
    portal_available: Boolean(billing?.customer_id),
    updated_at: billing?.updated_at ?? null,
  };
}

export const NO_CUSTOMER = 'No Stripe customer is linked to this tenant yet';

/** Seconds a caller waits after Stripe failed to answer while its circuit is still closed. */
export const STRIPE_FAILURE_RETRY_SECONDS = 10;

/**
 * A billing portal session for the tenant's Stripe customer. While Stripe's circuit is open this
 * is CircuitOpenError at once (503 with the seconds until it half-opens); a call that found
 * Stripe unwell is 503 too; a customer Stripe no longer knows is 404.
 */
export async function openBillingPortal(
  tenant: Tenant,
  gateway: StripeGateway,
  returnUrl?: string,
): Promise<{ url: string }> {
  const customer = tenant.billing?.customer_id;
  if (!customer) throw new DomainNotFoundError(NO_CUSTOMER);
  try {
    return await gateway.createPortalSession(customer, returnUrl);
  } catch (error) {
    if (isMissing(error)) throw new DomainNotFoundError(NO_CUSTOMER);
    if (stripeOutcome(error) === 'failure')
      throw new DependencyUnavailableError(
        'stripe',
        STRIPE_FAILURE_RETRY_SECONDS,
        'Stripe did not answer; try again shortly',
      );
    throw error;
  }
}
