import Stripe from 'stripe';
import type { Tenant } from '../../functions/shared/features/tenancy/model';
import { CircuitOpenError } from '../../functions/shared/platform/breaker/breaker';
import { DependencyUnavailableError } from '../../functions/shared/platform/errors/domain';
import {
  billingStatus,
  NO_CUSTOMER,
  openBillingPortal,
} from '../../functions/shared/providers/stripe/billing';
import { isMissing, stripeOutcome } from '../../functions/shared/providers/stripe/client';
import { stripeEndpoint } from '../../functions/shared/providers/stripe/config';
import { billingPortalBody } from '../../functions/shared/providers/stripe/schema';
import { snapshotOf } from '../../functions/shared/providers/stripe/subscription';

const raw = (statusCode: number, extra: Record<string, unknown> = {}) => ({
  message: 'm',
  statusCode,
  ...extra,
});

describe('Stripe errors and the breaker', () => {
  it('counts connection errors, timeouts, 5xx and 429 as Stripe being unwell', () => {
    expect(stripeOutcome(new Stripe.errors.StripeConnectionError({ message: 'timeout' }))).toBe('failure');
    expect(stripeOutcome(new Stripe.errors.StripeAPIError(raw(503, { type: 'api_error' })))).toBe('failure');
    expect(stripeOutcome(new Stripe.errors.StripeRateLimitError(raw(429)))).toBe('failure');
    expect(stripeOutcome(new Stripe.errors.StripeIdempotencyError(raw(500)))).toBe('failure');
  });

  it('never counts answers that are the request’s or the account’s fault', () => {
    expect(stripeOutcome(new Stripe.errors.StripeInvalidRequestError(raw(400)))).toBe('success');
    expect(stripeOutcome(new Stripe.errors.StripeInvalidRequestError(raw(404)))).toBe('success');
    expect(stripeOutcome(new Stripe.errors.StripeAuthenticationError(raw(401)))).toBe('success');
    expect(stripeOutcome(new Stripe.errors.StripePermissionError(raw(403)))).toBe('success');
    expect(stripeOutcome(new Stripe.errors.StripeCardError(raw(402)))).toBe('success');
    expect(stripeOutcome(new TypeError('bug'))).toBe('neutral');
    expect(stripeOutcome(new CircuitOpenError('stripe', 3))).toBe('neutral');
  });

  it('knows a missing object', () => {
    expect(
      isMissing(new Stripe.errors.StripeInvalidRequestError(raw(404, { code: 'resource_missing' }))),
    ).toBe(true);
    expect(isMissing(new Stripe.errors.StripeInvalidRequestError(raw(400)))).toBe(false);
  });
});

describe('Stripe settings', () => {
  it('points the client at STRIPE_API_BASE_URL', () => {
    expect(stripeEndpoint('https://api.stripe.com')).toEqual({
      host: 'api.stripe.com',
      port: 443,
      protocol: 'https',
    });
    expect(stripeEndpoint('http://127.0.0.1:4242/')).toEqual({
      host: '127.0.0.1',
      port: 4242,
      protocol: 'http',
    });
    expect(stripeEndpoint('http://localhost')).toEqual({ host: 'localhost', port: 80, protocol: 'http' });
    expect(() => stripeEndpoint('not a url')).toThrow('STRIPE_API_BASE_URL is not a URL');
    expect(() => stripeEndpoint('ftp://x')).toThrow('http or https');
  });
});

describe('subscriptions and billing status', () => {
  const subscription = {
    id: 'sub_9',
    object: 'subscription',
    customer: { id: 'cus_9' },
    status: 'past_due',
    cancel_at_period_end: true,
    metadata: { tenant_id: 'ten_1' },
    items: { data: [{ current_period_end: 1_800_000_000 }, { current_period_end: 1_800_100_000 }] },
  } as unknown as Stripe.Subscription;

  it('keeps status, customer, tenant and the latest item period end', () => {
    expect(snapshotOf(subscription)).toEqual({
      subscription_id: 'sub_9',
      customer_id: 'cus_9',
      status: 'past_due',
      tenant_id: 'ten_1',
      current_period_end: 1_800_100_000,
      cancel_at_period_end: true,
    });
    const bare = {
      ...subscription,
      customer: 'cus_1',
      metadata: {},
      items: { data: [] },
      cancel_at_period_end: false,
    };
    expect(snapshotOf(bare as unknown as Stripe.Subscription)).toEqual({
      subscription_id: 'sub_9',
      customer_id: 'cus_1',
      status: 'past_due',
      cancel_at_period_end: false,
    });
  });

  const tenant: Tenant = { id: 'ten_1', name: 'A', status: 'active', created_at: '2026-01-01T00:00:00Z' };
  const billed: Tenant = {
    ...tenant,
    billing: {
      subscription_id: 'sub_9',
      customer_id: 'cus_9',
      status: 'active',
      current_period_end: 1_800_000_000,
      cancel_at_period_end: false,
      event_created: 1,
      event_id: 'evt_1',
      synced_at: 2,
      updated_at: '2026-11-01T00:00:00.000Z',
    },
  };

  it('shows the status held, or none', () => {
    expect(billingStatus(tenant)).toEqual({
      status: 'none',
      subscription_id: null,
      current_period_end: null,
      cancel_at_period_end: false,
      portal_available: false,
      updated_at: null,
    });
    expect(billingStatus(billed)).toEqual({
      status: 'active',
      subscription_id: 'sub_9',
      current_period_end: '2027-01-15T08:00:00.000Z',
      cancel_at_period_end: false,
      portal_available: true,
      updated_at: '2026-11-01T00:00:00.000Z',
    });
  });

  it('opens the portal for the tenant’s own customer only', async () => {
    const calls: unknown[][] = [];
    const gateway = {
      createPortalSession: async (...args: unknown[]) => {
        calls.push(args);
        return { url: 'https://billing.stripe.com/p/session/x' };
      },
      retrieveSubscription: async () => undefined,
    };
    await expect(openBillingPortal(billed, gateway, 'https://app.example.com/billing')).resolves.toEqual({
      url: 'https://billing.stripe.com/p/session/x',
    });
    expect(calls).toEqual([['cus_9', 'https://app.example.com/billing']]);
    await expect(openBillingPortal(tenant, gateway)).rejects.toThrow(NO_CUSTOMER);
  });

  it('says 503 when Stripe is unwell and 404 when Stripe no longer knows the customer', async () => {
    const failing = (error: unknown) => ({
      createPortalSession: async () => {
        throw error;
      },
      retrieveSubscription: async () => undefined,
    });
    const down = await openBillingPortal(
      billed,
      failing(new Stripe.errors.StripeConnectionError({ message: 't' })),
    ).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(DependencyUnavailableError);
    expect((down as DependencyUnavailableError).extra).toEqual({ retry_after: 10 });
    await expect(
      openBillingPortal(
        billed,
        failing(new Stripe.errors.StripeInvalidRequestError(raw(400, { code: 'resource_missing' }))),
      ),
    ).rejects.toThrow(NO_CUSTOMER);
    await expect(
      openBillingPortal(billed, failing(new CircuitOpenError('stripe', 7))),
    ).rejects.toBeInstanceOf(CircuitOpenError);
    await expect(
      openBillingPortal(billed, failing(new Stripe.errors.StripeAuthenticationError(raw(401)))),
    ).rejects.toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
  });

  it('validates the portal body', () => {
    expect(billingPortalBody.safeParse({}).success).toBe(true);
    expect(billingPortalBody.safeParse({ return_url: 'https://app.example.com/x' }).success).toBe(true);
    expect(billingPortalBody.safeParse({ return_url: 'javascript:alert(1)' }).success).toBe(false);
  });
});
