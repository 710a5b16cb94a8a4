import { DEFAULT_GRAPH_API_VERSION, postEvents } from '../../functions/shared/providers/meta/client';
import { deliverIsolating } from '../../functions/shared/providers/meta/delivery';
import { buildMetaEvent, type MetaServerEvent } from '../../functions/shared/providers/meta/events';
import { sha256Hex } from '../../functions/shared/providers/meta/identifiers';
import { eventsRequest } from '../../functions/shared/providers/meta/request';
import { MetaFailure } from '../../functions/shared/providers/meta/results';
import { type FakeMeta, startFakeMeta } from '../../local/fake-meta';

/**
 * The Conversions API client against the local Meta fake, which speaks Meta's wire format and
 * validates bodies as Meta does: what the client sends is accepted, and Meta's error answers come
 * back as the failures the uploader acts on.
 */
const PIXEL = '1234567890';
const TOKEN = 'EAAB-test-access-token-0001';
const FBCLID = 'IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjcbCRxTDMgk';

let fake: FakeMeta;

beforeAll(async () => {
  fake = await startFakeMeta();
  process.env.META_GRAPH_BASE_URL = fake.baseUrl;
});
afterAll(async () => {
  delete process.env.META_GRAPH_BASE_URL;
  await fake.close();
});
beforeEach(() => fake.reset());

function event(id: string, hoursAgo = 1, overrides: Partial<MetaServerEvent> = {}): MetaServerEvent {
  const now = new Date();
  const built = buildMetaEvent(
    {
      id,
      eventName: 'Purchase',
      conversionTime: new Date(now.getTime() - hoursAgo * 3_600_000).toISOString(),
      fbclid: FBCLID,
      value: 10,
      currency: 'EUR',
      orderId: `order-${id}`,
      lead: {
        email: 'buyer@example.com',
        phone: '+4915123456789',
        landingPage: 'https://shop.example/landing',
        clientUserAgent: 'Mozilla/5.0 (X11; Linux x86_64)',
        clientIpAddress: '2001:db8::1',
        consent: { status: 'granted', ad_user_data: 'granted', ad_personalization: 'granted' },
        restricted: false,
        createdAt: new Date(now.getTime() - 2 * 86_400_000).toISOString(),
      },
    },
    { limitedDataUse: true },
    now,
  );
  if (built.kind !== 'event') throw new Error(JSON.stringify(built));
  return { ...built.event, ...overrides };
}

const send = (events: readonly MetaServerEvent[], testEventCode?: string) =>
  postEvents({ pixelId: PIXEL, accessToken: TOKEN, body: eventsRequest(events, testEventCode) });

describe('Conversions API client against the Meta fake', () => {
  it('a website Purchase is accepted as sent: token only in the header, nothing in the URL', async () => {
    const sent = event('cnv_1');
    const answer = await send([sent], 'TEST4242');
    expect(answer.eventsReceived).toBe(1);
    expect(answer.fbtraceId).toMatch(/^\S+$/);
    const [request] = fake.requests;
    expect(request).toMatchObject({
      version: DEFAULT_GRAPH_API_VERSION,
      pixelId: PIXEL,
      query: '',
      status: 200,
    });
    expect(request?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(JSON.stringify(request?.body)).not.toContain(TOKEN);
    expect(fake.received).toEqual([{ pixelId: PIXEL, testEventCode: 'TEST4242', event: sent }]);
    expect(sent.user_data.em).toEqual([sha256Hex('buyer@example.com')]);
  });

  it('one stale event makes Meta refuse the batch; isolating it delivers the others', async () => {
    const batch = [
      event('cnv_a'),
      event('cnv_b'),
      event('cnv_old', 1, { event_time: Math.floor(Date.now() / 1000) - 8 * 86_400 }),
      event('cnv_c'),
    ];
    await expect(send(batch)).rejects.toMatchObject({ kind: 'rejected', code: 100, subcode: 2804003 });
    fake.reset();
    const report = await deliverIsolating(batch, (group) => send(group));
    expect(report.outcomes.map((o) => o.kind)).toEqual(['delivered', 'delivered', 'rejected', 'delivered']);
    expect(report.outcomes[2]).toEqual({
      kind: 'rejected',
      reason:
        'Meta rejected the event: The timestamp for this event is too far in the past. Events need to be sent from your server within 7 days of when they occurred. Enter a timestamp that has occurred within the last 7 days.',
    });
    expect(fake.received.map((r) => r.event.event_id)).toEqual(['cnv_a', 'cnv_b', 'cnv_c']);
  });

  it('refuses what Meta refuses: unhashed data, a bad fbc, a website event without its page, over 1,000 events', async () => {
    const cases: MetaServerEvent[] = [
      event('x1', 1, { user_data: { em: ['buyer@example.com'] } }),
      event('x2', 1, { user_data: { fbc: `fb.1.${Math.floor(Date.now() / 1000)}.${FBCLID}` } }),
      (() => {
        const { event_source_url: _url, ...rest } = event('x3');
        return rest;
      })(),
    ];
    for (const bad of cases) await expect(send([bad])).rejects.toMatchObject({ kind: 'rejected', code: 100 });
    const many = Array.from({ length: 1001 }, (_, i) => event(`m${i}`));
    await expect(send(many)).rejects.toMatchObject({ kind: 'rejected' });
    await expect(send(many.slice(0, 1000))).resolves.toMatchObject({ eventsReceived: 1000 });
  });

  it('a revoked token disconnects, throttling and 5xx are retryable, a deprecated version is configuration', async () => {
    const one = [event('cnv_z')];
    fake.commands.revokedTokens.add(TOKEN);
    await expect(send(one)).rejects.toMatchObject({ kind: 'disconnected', code: 190 });
    fake.commands.revokedTokens.clear();
    for (const code of [4, 17, 32, 613, 80004]) {
      fake.commands.throttle = { times: 1, code };
      await expect(send(one)).rejects.toMatchObject({ kind: 'throttled', code });
    }
    fake.commands.serverErrors = 1;
    await expect(send(one)).rejects.toMatchObject({ kind: 'transient', code: 2 });
    fake.commands.deprecatedVersions.add(DEFAULT_GRAPH_API_VERSION);
    await expect(send(one)).rejects.toMatchObject({ kind: 'configuration', code: 2635 });
    fake.commands.deprecatedVersions.clear();
    await expect(send(one)).resolves.toMatchObject({ eventsReceived: 1 });
  });

  it('a slow answer times out after 1.5 s as a transient failure', async () => {
    fake.commands.delayMs = 2_000;
    const error = await send([event('slow')]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MetaFailure);
    expect(error).toMatchObject({ kind: 'transient', message: 'Meta did not answer within 1.5 s' });
  });
});
