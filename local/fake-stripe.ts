import { LOCAL_STRIPE_API_KEY } from './bootstrap';
import { serveFake } from './fakes/http-fake';
import { type StripeApi, stripeApi, stripeFailure } from './fakes/stripe';

/**
 * A fake of the Stripe API calls the platform makes (`fakes/stripe.ts`), for tests and for
 * `STRIPE_FAKE=1 npm start`, on 127.0.0.1 and a free port, taking the local stack's secret key
 * unless given another.
 */
export type { FakeSubscription, RecordedStripeRequest } from './fakes/stripe';

export interface FakeStripe extends Omit<StripeApi, 'routes'> {
  readonly baseUrl: string;
  readonly apiKey: string;
  close(): Promise<void>;
}

export async function startFakeStripe(apiKey = LOCAL_STRIPE_API_KEY): Promise<FakeStripe> {
  return { ...(await serveFake(stripeApi(apiKey), { failed: stripeFailure })), apiKey };
}
