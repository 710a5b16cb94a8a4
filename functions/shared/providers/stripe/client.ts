import Stripe from 'stripe';
import type { CircuitBreaker } from '../../platform/breaker/breaker';
import type { Outcome } from '../../platform/breaker/circuit';
import { breakerFor } from '../../platform/breaker/circuits';
import {
  loadStripeKey,
  STRIPE_MAX_NETWORK_RETRIES,
  STRIPE_TIMEOUT_MS,
  type StripeEndpoint,
  stripeEndpoint,
} from './config';
import { type SubscriptionSnapshot, snapshotOf } from './subscription';

/**
 * The Stripe adapter: the official client, configured once per key, and the two calls the
 * platform makes, each through the shared `stripe` circuit breaker. While the circuit is open a
 * call throws CircuitOpenError without reaching Stripe.
 */

/**
 * What an error says about Stripe's health: connection errors and timeouts, 5xx and 429 (after
 * the client's own retry) mean Stripe is unwell; any other answer from Stripe (invalid request,
 * authentication, permission, card, idempotency) means it is up.
 */
export function stripeOutcome(error: unknown): Outcome {
  if (!(error instanceof Stripe.errors.StripeError)) return 'neutral';
  if (
    error instanceof Stripe.errors.StripeConnectionError ||
    error instanceof Stripe.errors.StripeRateLimitError ||
    error instanceof Stripe.errors.StripeAPIError
  )
    return 'failure';
  return (error.statusCode ?? 0) >= 500 ? 'failure' : 'success';
}

/** `resource_missing`: Stripe has no such object (a 404, Stripe is fine). */
export function isMissing(error: unknown): boolean {
  return error instanceof Stripe.errors.StripeInvalidRequestError && error.code === 'resource_missing';
}

const clients = new Map<string, Stripe>();

export function createStripe(key: string, endpoint: StripeEndpoint = stripeEndpoint()): Stripe {
  const cacheKey = `${endpoint.protocol}://${endpoint.host}:${endpoint.port}\n${key}`;
  let client = clients.get(cacheKey);
  if (!client) {
    client = new Stripe(key, {
      ...endpoint,
      timeout: STRIPE_TIMEOUT_MS,
      maxNetworkRetries: STRIPE_MAX_NETWORK_RETRIES,
      telemetry: false,
      appInfo: { name: 'AdsEngineer' },
    });
    clients.set(cacheKey, client);
  }
  return client;
}

export interface StripeGateway {
  createPortalSession(customerId: string, returnUrl?: string): Promise<{ url: string }>;
  /** The subscription as Stripe holds it now; undefined when Stripe has no such subscription. */
  retrieveSubscription(subscriptionId: string): Promise<SubscriptionSnapshot | undefined>;
}

export class StripeClient implements StripeGateway {
  constructor(
    private readonly breaker: CircuitBreaker = breakerFor('stripe'),
    private readonly client: () => Promise<Stripe> = async () => createStripe(await loadStripeKey()),
  ) {}

  async createPortalSession(customerId: string, returnUrl?: string): Promise<{ url: string }> {
    const stripe = await this.client();
    const session = await this.breaker.call(
      () =>
        stripe.billingPortal.sessions.create({
          customer: customerId,
          ...(returnUrl ? { return_url: returnUrl } : {}),
        }),
      stripeOutcome,
    );
    return { url: session.url };
  }

  async retrieveSubscription(subscriptionId: string): Promise<SubscriptionSnapshot | undefined> {
    const stripe = await this.client();
    try {
      return snapshotOf(
        await this.breaker.call(() => stripe.subscriptions.retrieve(subscriptionId), stripeOutcome),
      );
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }
}
