import Stripe from 'stripe';
import { CircuitBreaker, CircuitOpenError } from '../../functions/shared/platform/breaker/breaker';
import { circuitSettings } from '../../functions/shared/platform/breaker/circuit';
import { createStripe, StripeClient } from '../../functions/shared/providers/stripe/client';
import { stripeEndpoint } from '../../functions/shared/providers/stripe/config';
import { type FakeStripe, startFakeStripe } from '../../local/fake-stripe';
import { FakeClock, MemoryCircuitStore } from '../support/circuits';

/**
 * The official Stripe client against the local fake, which speaks Stripe's wire format: the
 * calls the platform makes, Stripe's error answers as the client's error classes, and the
 * breaker counting only Stripe's own trouble.
 */
let fake: FakeStripe;
let store: MemoryCircuitStore;
let clock: FakeClock;

const clientWith = (key: string) => {
  clock = new FakeClock();
  store = new MemoryCircuitStore();
  const breaker = new CircuitBreaker('stripe', store, { settings: circuitSettings({}), now: clock.now });
  return new StripeClient(breaker, async () => createStripe(key, stripeEndpoint(fake.baseUrl)));
};

beforeAll(async () => {
  fake = await startFakeStripe();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

describe('Stripe client against the Stripe fake', () => {
  it('creates a portal session for a customer and retrieves a subscription with its item period', async () => {
    fake.addSubscription({
      id: 'sub_1',
      customer: 'cus_1',
      status: 'past_due',
      tenant_id: 'ten_1',
      current_period_end: 1_800_000_000,
    });
    const client = clientWith(fake.apiKey);
    const session = await client.createPortalSession('cus_1', 'https://app.example.com/billing');
    expect(session.url).toMatch(new RegExp(`^${fake.baseUrl}/p/session/test_`));
    expect(fake.requests[0]).toMatchObject({
      method: 'POST',
      path: '/v1/billing_portal/sessions',
      form: { customer: 'cus_1', return_url: 'https://app.example.com/billing' },
    });
    await expect(client.retrieveSubscription('sub_1')).resolves.toEqual({
      subscription_id: 'sub_1',
      customer_id: 'cus_1',
      status: 'past_due',
      tenant_id: 'ten_1',
      current_period_end: 1_800_000_000,
      cancel_at_period_end: false,
    });
    await expect(client.retrieveSubscription('sub_unknown')).resolves.toBeUndefined();
  });

  it('an unknown customer or a wrong key is Stripe answering: the circuit stays closed', async () => {
    const client = clientWith(fake.apiKey);
    for (let i = 0; i < 6; i += 1)
      await expect(client.createPortalSession('cus_nobody')).rejects.toBeInstanceOf(
        Stripe.errors.StripeInvalidRequestError,
      );
    const wrong = clientWith('sk_test_wrong');
    for (let i = 0; i < 6; i += 1)
      await expect(wrong.retrieveSubscription('sub_1')).rejects.toBeInstanceOf(
        Stripe.errors.StripeAuthenticationError,
      );
    expect(store.circuits.get('stripe')?.state ?? 'closed').toBe('closed');
  });

  it('429 counts after the client’s own handling, and the circuit then refuses without calling', async () => {
    const client = clientWith(fake.apiKey);
    fake.outage(429);
    for (let i = 0; i < 4; i += 1)
      await expect(client.retrieveSubscription('sub_1')).rejects.toBeInstanceOf(
        Stripe.errors.StripeRateLimitError,
      );
    await expect(client.retrieveSubscription('sub_1')).rejects.toBeInstanceOf(CircuitOpenError);
    const made = fake.requests.length;
    await expect(client.createPortalSession('cus_1')).rejects.toBeInstanceOf(CircuitOpenError);
    expect(fake.requests).toHaveLength(made);
  });

  it('takes commands over HTTP beside npm start', async () => {
    const command = (path: string, body: unknown) =>
      fetch(`${fake.baseUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });
    expect(
      (await command('/_fake/subscriptions', { id: 'sub_9', customer: 'cus_9', status: 'active' })).status,
    ).toBe(201);
    expect((await command('/_fake/outage', { status: 503, seconds: 60 })).status).toBe(200);
    const client = clientWith(fake.apiKey);
    await expect(client.retrieveSubscription('sub_9')).rejects.toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(fake.requests.map((r) => r.status)).toEqual([503, 503]);
    await command('/_fake/outage', { status: 0 });
    await expect(client.retrieveSubscription('sub_9')).resolves.toMatchObject({ status: 'active' });
    expect((await command('/_fake/nothing', {})).status).toBe(404);
    expect(
      (await fetch(`${fake.baseUrl}/v1/charges`, { headers: { Authorization: `Bearer ${fake.apiKey}` } }))
        .status,
    ).toBe(404);
  });
});
