import { createHmac } from 'node:crypto';
import { readCircuits, resetBreakers } from '../../functions/shared/platform/breaker/circuits';
import { type FakeStripe, startFakeStripe } from '../../local/fake-stripe';
import type { BatchReport } from '../../local/poller';
import type { LocalStack } from '../../local/stack';
import { request } from '../support/http';
import { eventually, startTestStack } from '../support/local-stack';
import { createTenant, type TestTenant, tokenFor } from '../support/tenants';

/**
 * Billing on the local stack with the fake Stripe: the tenant's status, its billing portal, and
 * Stripe's circuit as clients and on-call see it. The circuit opens after the default 5 failures
 * and stays open CIRCUIT_OPEN_SECONDS (short here, 60 s by default).
 */
const STRIPE_SECRET = 'whsec_billing_test_secret_0123456789';
const OPEN_SECONDS = 3;

let stack: LocalStack;
let stripe: FakeStripe;
let a: TestTenant;
let b: TestTenant;
const reports: BatchReport[] = [];
const call = (method: string, path: string, options?: Parameters<typeof request>[3]) =>
  request(stack.url, method, path, options);

async function stripeEvent(id: string, subscription: string, tenantId: string) {
  const body = JSON.stringify({
    id,
    type: 'customer.subscription.updated',
    created: Math.floor(Date.now() / 1000),
    data: { object: { id: subscription, status: 'active', metadata: { tenant_id: tenantId } } },
  });
  const t = Math.floor(Date.now() / 1000);
  const v1 = createHmac('sha256', STRIPE_SECRET).update(`${t}.${body}`).digest('hex');
  const res = await fetch(`${stack.url}/api/v1/billing/webhooks/stripe`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Stripe-Signature': `t=${t},v1=${v1}` },
    body,
  });
  expect(res.status).toBe(202);
}

const stripeCalls = () => stripe.requests.filter((r) => r.path.startsWith('/v1/')).length;

beforeAll(async () => {
  stripe = await startFakeStripe();
  Object.assign(process.env, {
    STRIPE_WEBHOOK_SECRET: STRIPE_SECRET,
    STRIPE_API_BASE_URL: stripe.baseUrl,
    CIRCUIT_OPEN_SECONDS: String(OPEN_SECONDS),
    WEBHOOK_RETRY_BASE_SECONDS: '1',
    RATE_LIMIT_TENANT_PER_HOUR: '100000',
    RATE_LIMIT_IP_PER_HOUR: '100000',
  });
  resetBreakers();
  stack = await startTestStack('billing', { retryDelaySeconds: 1 });
  stack.events.on('batch', (r: BatchReport) => reports.push(r));
  a = await createTenant(stack.url, 'Agency A');
  b = await createTenant(stack.url, 'Agency B');
  stripe.addSubscription({
    id: 'sub_a',
    customer: 'cus_a',
    status: 'active',
    tenant_id: a.id,
    current_period_end: 1_800_000_000,
  });
  await stripeEvent('evt_a1', 'sub_a', a.id);
  await eventually(async () => {
    const res = await call('GET', '/api/v1/billing', { token: a.viewer });
    return res.body.status === 'active' ? res : undefined;
  }, 'the subscription stored');
});

afterAll(async () => {
  await stack.stop();
  await stripe.close();
  for (const name of ['STRIPE_API_BASE_URL', 'CIRCUIT_OPEN_SECONDS', 'WEBHOOK_RETRY_BASE_SECONDS'])
    delete process.env[name];
  resetBreakers();
});

describe('billing', () => {
  it('a viewer reads the subscription status; another tenant sees only its own (none)', async () => {
    const res = await call('GET', '/api/v1/billing', { token: a.viewer });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: 'active',
      subscription_id: 'sub_a',
      current_period_end: new Date(1_800_000_000 * 1000).toISOString(),
      cancel_at_period_end: false,
      portal_available: true,
      updated_at: expect.any(String),
    });
    const other = await call('GET', '/api/v1/billing', { token: b.viewer });
    expect(other.body).toMatchObject({ status: 'none', subscription_id: null, portal_available: false });
  });

  it('an admin opens the billing portal of the tenant’s own Stripe customer', async () => {
    const res = await call('POST', '/api/v1/billing/portal', {
      token: a.admin,
      body: { return_url: 'https://app.example.com/settings/billing' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      url: expect.stringMatching(new RegExp(`^${stripe.baseUrl}/p/session/test_`)),
    });
    expect(stripe.requests.at(-1)).toMatchObject({
      method: 'POST',
      path: '/v1/billing_portal/sessions',
      form: { customer: 'cus_a', return_url: 'https://app.example.com/settings/billing' },
      status: 200,
    });
    expect((await call('POST', '/api/v1/billing/portal', { token: a.member, body: {} })).status).toBe(403);
    const none = await call('POST', '/api/v1/billing/portal', { token: b.admin, body: {} });
    expect(none.status).toBe(404);
    expect(none.body).toMatchObject({ error: 'not_found' });
    const bad = await call('POST', '/api/v1/billing/portal', {
      token: a.admin,
      body: { return_url: 'ftp://x' },
    });
    expect(bad.status).toBe(400);
  });

  it('Stripe down: 503 dependency_unavailable, the circuit opens after the threshold and Stripe gets no further calls while open', async () => {
    stripe.outage(503);
    const before = stripeCalls();
    const answers = [];
    for (let i = 0; i < 5; i += 1)
      answers.push(await call('POST', '/api/v1/billing/portal', { token: a.admin, body: {} }));
    for (const res of answers) {
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ error: 'dependency_unavailable', retry_after: expect.any(Number) });
      expect(res.headers.get('retry-after')).toBe(String(res.body.retry_after));
    }
    // The fifth failure opened the circuit: its answer says when the circuit half-opens.
    expect(answers[4]?.body.retry_after).toBe(OPEN_SECONDS);
    // Each call: one request and the client's own single retry.
    expect(stripeCalls() - before).toBe(10);
    const views = await readCircuits();
    expect(views.stripe).toMatchObject({ state: 'open', opened_at: expect.any(String) });

    const whileOpen = stripeCalls();
    for (let i = 0; i < 5; i += 1) {
      const res = await call('POST', '/api/v1/billing/portal', { token: a.admin, body: {} });
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({
        error: 'dependency_unavailable',
        message: 'Stripe is temporarily unavailable',
      });
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect(stripeCalls()).toBe(whileOpen);

    // A subscription event meanwhile waits instead of failing its way to the dead-letter queue.
    stripe.addSubscription({ id: 'sub_b', customer: 'cus_b', status: 'trialing', tenant_id: b.id });
    const reportsBefore = reports.length;
    await stripeEvent('evt_b1', 'sub_b', b.id);
    await eventually(
      async () => (reports.slice(reportsBefore).some((r) => r.queue === 'webhooks') ? true : undefined),
      'the delivery handled',
    );

    stripe.outage(0);
    await new Promise((r) => setTimeout(r, OPEN_SECONDS * 1000));
    // Half-open: the first call is the probe; it succeeds and closes the circuit.
    const probe = await call('POST', '/api/v1/billing/portal', { token: a.admin, body: {} });
    expect(probe.status).toBe(200);
    expect((await readCircuits()).stripe).toMatchObject({
      state: 'closed',
      last_success_at: expect.any(String),
    });

    const stored = await eventually(async () => {
      const res = await call('GET', '/api/v1/billing', { token: b.viewer });
      return res.body.status === 'trialing' ? res.body : undefined;
    }, 'the waiting delivery stored after Stripe recovered');
    expect(stored).toMatchObject({ subscription_id: 'sub_b', portal_available: true });
    const platform = await tokenFor('platform', 'owner');
    const dlq = await call('GET', '/api/v1/admin/dlq?queue=webhooks', { token: platform });
    expect(dlq.body.items).toEqual([]);
    expect(reports.every((r) => r.failedIds.length === 0)).toBe(true);
  });
});
