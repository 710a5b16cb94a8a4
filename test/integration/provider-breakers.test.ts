import { CircuitOpenError } from '../../functions/shared/platform/breaker/breaker';
import { readCircuits, resetBreakers } from '../../functions/shared/platform/breaker/circuits';
import { postEventsGuarded } from '../../functions/shared/providers/meta/breaker';
import { buildMetaEvent } from '../../functions/shared/providers/meta/events';
import { eventsRequest } from '../../functions/shared/providers/meta/request';
import { MetaFailure } from '../../functions/shared/providers/meta/results';
import { type FakeMeta, startFakeMeta } from '../../local/fake-meta';
import { freshResources } from '../support/emulator';

/**
 * The Meta client through the shared `meta` breaker, against the Meta fake and the emulator's
 * system table: Meta's outage opens the circuit after the threshold and no request reaches Meta
 * while it is open; one tenant's trouble (its token, its own throttling) never opens it.
 */
const PIXEL = '1234567890';
const FBCLID = 'IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjcbCRxTDMgk';
let fake: FakeMeta;

function body() {
  const now = new Date();
  const built = buildMetaEvent(
    {
      id: 'cnv_1',
      eventName: 'Purchase',
      conversionTime: new Date(now.getTime() - 3_600_000).toISOString(),
      fbclid: FBCLID,
      value: 10,
      currency: 'EUR',
      orderId: 'order-1',
      lead: {
        email: 'buyer@example.com',
        landingPage: 'https://shop.example/landing',
        clientUserAgent: 'Mozilla/5.0 (X11; Linux x86_64)',
        clientIpAddress: '2001:db8::1',
        consent: { status: 'granted', ad_user_data: 'granted', ad_personalization: 'granted' },
        restricted: false,
        createdAt: new Date(now.getTime() - 86_400_000).toISOString(),
      },
    },
    { limitedDataUse: false },
    now,
  );
  if (built.kind !== 'event') throw new Error(JSON.stringify(built));
  return eventsRequest([built.event]);
}

const post = (accessToken = 'EAAB-test-access-token-0001') =>
  postEventsGuarded({ pixelId: PIXEL, accessToken, body: body() }).catch((e: unknown) => e);

beforeAll(async () => {
  fake = await startFakeMeta();
  process.env.META_GRAPH_BASE_URL = fake.baseUrl;
});
afterAll(async () => {
  delete process.env.META_GRAPH_BASE_URL;
  delete process.env.CIRCUIT_OPEN_SECONDS;
  resetBreakers();
  await fake.close();
});
beforeEach(async () => {
  await freshResources();
  resetBreakers();
  fake.reset();
});

describe('Meta through the shared breaker', () => {
  it('an outage opens the circuit after the threshold; while open nothing reaches Meta', async () => {
    fake.commands.serverErrors = 100;
    for (let i = 0; i < 4; i += 1) expect(await post()).toBeInstanceOf(MetaFailure);
    const opening = await post();
    expect(opening).toBeInstanceOf(CircuitOpenError);
    expect((opening as CircuitOpenError).cause).toBeInstanceOf(MetaFailure);
    expect(fake.requests).toHaveLength(5);
    for (let i = 0; i < 10; i += 1) expect(await post()).toBeInstanceOf(CircuitOpenError);
    expect(fake.requests).toHaveLength(5);
    expect((await readCircuits()).meta.state).toBe('open');
  });

  it('recovers by itself: after the open time one probe closes the circuit', async () => {
    process.env.CIRCUIT_OPEN_SECONDS = '1';
    resetBreakers();
    fake.commands.serverErrors = 5;
    for (let i = 0; i < 5; i += 1) await post();
    expect(await post()).toBeInstanceOf(CircuitOpenError);
    await new Promise((r) => setTimeout(r, 1_100));
    expect(await post()).toEqual(expect.objectContaining({ eventsReceived: 1 }));
    expect((await readCircuits()).meta).toMatchObject({
      state: 'closed',
      last_success_at: expect.any(String),
    });
    delete process.env.CIRCUIT_OPEN_SECONDS;
  });

  it('one tenant’s revoked token or its own throttling never opens the circuit', async () => {
    fake.commands.revokedTokens.add('EAAB-revoked-token-0002');
    fake.commands.throttle = { times: 6, code: 17 };
    for (let i = 0; i < 6; i += 1) expect(await post()).toMatchObject({ kind: 'throttled' });
    for (let i = 0; i < 6; i += 1)
      expect(await post('EAAB-revoked-token-0002')).toMatchObject({ kind: 'disconnected' });
    expect((await readCircuits()).meta.state).toBe('closed');
    expect(await post()).toEqual(expect.objectContaining({ eventsReceived: 1 }));
  });

  it('Meta’s application-wide rate limit counts', async () => {
    fake.commands.throttle = { times: 5, code: 4 };
    for (let i = 0; i < 5; i += 1) await post();
    expect((await readCircuits()).meta.state).toBe('open');
  });
});
