import { LOCAL_STRIPE_API_KEY } from './bootstrap';
import { startHttpFake } from './fakes/http-fake';
import { type FakeSubscription, type RecordedStripeRequest, stripeApi, stripeFailure } from './fakes/stripe';

/**
 * A fake of the Stripe API calls the platform makes (`fakes/stripe.ts`), for tests and for
 * `STRIPE_FAKE=1 npm start`, on 127.0.0.1 and a free port, taking the local stack's secret key
 * unless given another.
 */
export type { FakeSubscription, RecordedStripeRequest } from './fakes/stripe';

export interface FakeStripe {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly requests: RecordedStripeRequest[];
  readonly customers: Set<string>;
  readonly subscriptions: Map<string, FakeSubscription>;
  /** Every API call answers with this status (503, 500, 429) until `outage(0)`. */
  outage(status: number, seconds?: number): void;
  addSubscription(subscription: FakeSubscription): void;
  reset(): void;
  close(): Promise<void>;
}

export async function startFakeStripe(apiKey = LOCAL_STRIPE_API_KEY): Promise<FakeStripe> {
  const api = stripeApi(apiKey);
  const server = await startHttpFake(api.routes, { failed: stripeFailure });
  return {
    baseUrl: server.baseUrl,
    apiKey,
    requests: api.requests,
    customers: api.customers,
    subscriptions: api.subscriptions,
    outage: api.outage,
    addSubscription: api.addSubscription,
    reset() {
      server.log.length = 0;
      api.reset();
    },
    close: () => server.close(),
  };
}
