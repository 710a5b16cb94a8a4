import type { LoggedConversion } from '../../functions/shared/features/conversions/dynamo-log';
import { ProviderFailure, type UploadRow } from '../../functions/shared/features/conversions/ports-provider';
import type { StoredLead } from '../../functions/shared/features/leads/model';
import type { EventsCall } from '../../functions/shared/providers/meta/client';
import {
  DEFAULT_GRAPH_API_VERSION,
  eventsUrl,
  postEvents,
} from '../../functions/shared/providers/meta/client';
import { deliverIsolating } from '../../functions/shared/providers/meta/delivery';
import {
  buildMetaEvent,
  eventProblem,
  isTooOld,
  type MetaEventInput,
  type MetaLeadData,
  type MetaServerEvent,
  TOO_OLD,
} from '../../functions/shared/providers/meta/events';
import {
  FBC,
  fbcOf,
  hashedEmail,
  hashedExternalId,
  hashedName,
  hashedPhone,
  metaEmail,
  metaName,
  metaPhone,
} from '../../functions/shared/providers/meta/identifiers';
import {
  metaIntegrationOf,
  metaSettingsBody,
  publicMetaSettings,
} from '../../functions/shared/providers/meta/integration';
import { leadEventConversion, queueLeadEvent } from '../../functions/shared/providers/meta/lead-events';
import {
  type MetaProviderDeps,
  metaProvider,
  providerFailureOf,
  THROTTLE_WAIT_SECONDS,
} from '../../functions/shared/providers/meta/provider';
import {
  batches,
  batchesPerPixel,
  eventsRequest,
  MAX_EVENTS_PER_REQUEST,
} from '../../functions/shared/providers/meta/request';
import { failureOf, MetaFailure } from '../../functions/shared/providers/meta/results';
import { storedLead } from '../support/fixtures';

const NOW = new Date('2026-11-25T12:00:00Z');
const FBCLID = 'IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjcbCRxTDMgk';

/**
 * Meta's published examples ("Customer Information Parameters", normalised input → expected
 * SHA-256), cross-checked with `printf '%s' <normalised> | sha256sum`.
 */
const META_VECTORS = {
  email: {
    input: 'John_Smith@gmail.com',
    normalised: 'john_smith@gmail.com',
    hash: '62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f',
  },
  phone: {
    input: '(650)555-1212',
    country: 'US',
    normalised: '16505551212',
    hash: 'e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176',
  },
  mary: {
    input: 'Mary',
    normalised: 'mary',
    hash: '6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec',
  },
  jeong: {
    input: '정',
    normalised: '정',
    hash: '8fa8cd9c440be61d0151429310034083132b35975c4bea67fdd74158eb51db14',
  },
  valery: {
    input: 'Valéry',
    normalised: 'valéry',
    hash: '08e1996b5dd49e62a4b4c010d44e4345592a863bb9f8e3976219bac29417149c',
  },
};

describe("Meta normalisation and hashing (Meta's published vectors)", () => {
  it('emails: trimmed and lower-cased, spaces and capitals included, gmail dots kept', () => {
    const v = META_VECTORS.email;
    expect(metaEmail(v.input)).toBe(v.normalised);
    expect(hashedEmail(v.input)).toBe(v.hash);
    expect(hashedEmail('  JOHN_Smith@GMAIL.com \t')).toBe(v.hash);
    expect(metaEmail('First.Last@Gmail.com')).toBe('first.last@gmail.com');
    expect(metaEmail('not an email')).toBeUndefined();
    expect(hashedEmail('')).toBeUndefined();
  });

  it('phones: national with their country, international with + or 00, digits only without +', () => {
    const v = META_VECTORS.phone;
    expect(metaPhone(v.input, v.country)).toBe(v.normalised);
    expect(hashedPhone(v.input, v.country)).toBe(v.hash);
    expect(hashedPhone('+1 (650) 555-1212')).toBe(v.hash);
    expect(hashedPhone('001 650 555 1212')).toBe(v.hash);
    expect(hashedPhone('650.555.1212', 'us')).toBe(v.hash);
    // Meta's own international example (UK), and a German mobile written nationally.
    expect(metaPhone('+44 844 412 4653')).toBe('448444124653');
    expect(metaPhone('0151 23456789', 'DE')).toBe('4915123456789');
    expect(metaPhone('0049 151 23456789')).toBe('4915123456789');
    // A national number without its country is left out, never guessed.
    expect(metaPhone('(650)555-1212')).toBeUndefined();
    expect(metaPhone('12')).toBeUndefined();
  });

  it('names: lower-cased, punctuation removed, diacritics and other scripts kept', () => {
    for (const v of [META_VECTORS.mary, META_VECTORS.jeong, META_VECTORS.valery]) {
      expect(metaName(v.input)).toBe(v.normalised);
      expect(hashedName(v.input)).toBe(v.hash);
    }
    // Decomposed é (e + combining accent) is the same name as the composed one.
    expect(hashedName('Vale\u0301ry')).toBe(META_VECTORS.valery.hash);
    expect(metaName("O'Brien-Smith")).toBe('obriensmith');
    expect(metaName('  ...  ')).toBeUndefined();
  });

  it('external ids: hashed as given (trimmed), case kept', () => {
    expect(hashedExternalId(' CRM-42 ')).toBe(hashedExternalId('CRM-42'));
    expect(hashedExternalId('CRM-42')).not.toBe(hashedExternalId('crm-42'));
    expect(hashedExternalId('   ')).toBeUndefined();
  });
});

describe('fbc', () => {
  it('is fb.1.<click ms>.<fbclid> with the fbclid byte for byte', () => {
    const ms = Date.parse('2026-11-20T08:30:00.123Z');
    const fbc = fbcOf(FBCLID, ms);
    expect(fbc).toBe(`fb.1.${ms}.${FBCLID}`);
    expect(fbc).toMatch(FBC);
    const mixedCase = 'AbCdEfGhIjKlMnOpQrStUvWxYz1234567890';
    expect(fbcOf(mixedCase, ms)?.endsWith(`.${mixedCase}`)).toBe(true);
  });

  it('refuses seconds for milliseconds and values that are not fbclids', () => {
    expect(fbcOf(FBCLID, 1_764_000_000)).toBeUndefined();
    expect(fbcOf(FBCLID, Number.NaN)).toBeUndefined();
    expect(fbcOf('has spaces in it', Date.now())).toBeUndefined();
    expect(fbcOf('x%2Fencoded%3D', Date.now())).toBeUndefined();
  });
});

function lead(overrides: Partial<MetaLeadData> = {}): MetaLeadData {
  return {
    email: ' Buyer@Example.com ',
    phone: '+4915123456789',
    externalId: 'cust-7',
    consent: { status: 'granted', ad_user_data: 'granted', ad_personalization: 'granted' },
    restricted: false,
    createdAt: '2026-11-24T10:00:00.000Z',
    ...overrides,
  };
}

function input(overrides: Partial<MetaEventInput> = {}): MetaEventInput {
  return {
    id: 'cnv_abc',
    eventName: 'Purchase',
    conversionTime: '2026-11-25T11:00:00.000Z',
    fbclid: FBCLID,
    value: 49.9,
    currency: 'EUR',
    orderId: 'order-1',
    lead: lead(),
    ...overrides,
  };
}

const built = (i: MetaEventInput, ldu = false) => buildMetaEvent(i, { limitedDataUse: ldu }, NOW);
const eventOf = (i: MetaEventInput, ldu = false): MetaServerEvent => {
  const result = built(i, ldu);
  if (result.kind !== 'event') throw new Error(`no event: ${JSON.stringify(result)}`);
  return result.event;
};

describe('building events', () => {
  it('a won lead with an fbclid: every field from the conversion and the lead', () => {
    const event = eventOf(input());
    expect(event).toEqual({
      event_name: 'Purchase',
      event_time: Date.parse('2026-11-25T11:00:00.000Z') / 1000,
      event_id: 'cnv_abc',
      action_source: 'system_generated',
      user_data: {
        em: [hashedEmail('buyer@example.com')],
        ph: [hashedPhone('+4915123456789')],
        external_id: [hashedExternalId('cust-7')],
        fbc: `fb.1.${Date.parse('2026-11-24T10:00:00.000Z')}.${FBCLID}`,
      },
      custom_data: { value: 49.9, currency: 'EUR', order_id: 'order-1' },
      data_processing_options: [],
    });
  });

  it('the click time, when known, makes the fbc; ip and user agent only when captured', () => {
    const event = eventOf(input({ clickTime: '2026-11-23T09:00:00.000Z' }));
    expect(event.user_data.fbc).toBe(`fb.1.${Date.parse('2026-11-23T09:00:00.000Z')}.${FBCLID}`);
    expect(event.user_data).not.toHaveProperty('client_ip_address');
    expect(event.user_data).not.toHaveProperty('client_user_agent');
    expect(event.user_data).not.toHaveProperty('fbp');
  });

  it("carries the browser's _fbp cookie as fbp, unhashed, when the lead has it", () => {
    const event = eventOf(input({ lead: lead({ fbp: 'fb.1.1558571054389.1098115397' }) }));
    expect(event.user_data.fbp).toBe('fb.1.1558571054389.1098115397');
  });

  it('website only with the landing page and the browser user agent, which it then carries', () => {
    const web = eventOf(
      input({
        lead: lead({
          landingPage: 'https://shop.example/p/1?fbclid=x',
          clientUserAgent: 'Mozilla/5.0',
          clientIpAddress: '203.0.113.9',
        }),
      }),
    );
    expect(web.action_source).toBe('website');
    expect(web.event_source_url).toBe('https://shop.example/p/1?fbclid=x');
    expect(web.user_data.client_user_agent).toBe('Mozilla/5.0');
    expect(web.user_data.client_ip_address).toBe('203.0.113.9');
    const pageOnly = eventOf(input({ lead: lead({ landingPage: 'https://shop.example/' }) }));
    expect(pageOnly.action_source).toBe('system_generated');
    expect(pageOnly).not.toHaveProperty('event_source_url');
    const badPage = eventOf(
      input({ lead: lead({ landingPage: 'javascript:alert(1)', clientUserAgent: 'UA' }) }),
    );
    expect(badPage.action_source).toBe('system_generated');
  });

  it('consent: nothing for denied, withdrawn, pending without a banner, restricted or ad_user_data denied', () => {
    const refused = (consent: MetaLeadData['consent'], restricted = false) =>
      built(input({ lead: lead({ consent, restricted }) }));
    expect(refused({ status: 'denied', ad_user_data: 'denied', ad_personalization: 'denied' })).toEqual({
      kind: 'cancelled',
      reason: 'consent_withdrawn',
    });
    expect(
      refused({ status: 'withdrawn', ad_user_data: 'granted', ad_personalization: 'granted' }).kind,
    ).toBe('cancelled');
    expect(
      refused({
        status: 'pending',
        method: 'form_checkbox',
        ad_user_data: 'granted',
        ad_personalization: 'granted',
      }).kind,
    ).toBe('cancelled');
    expect(refused({ status: 'granted', ad_user_data: 'denied', ad_personalization: 'granted' }).kind).toBe(
      'cancelled',
    );
    expect(
      refused({ status: 'granted', ad_user_data: 'granted', ad_personalization: 'granted' }, true),
    ).toEqual({ kind: 'cancelled', reason: 'restricted' });
    const banner = built(
      input({
        lead: lead({
          consent: {
            status: 'pending',
            method: 'cookie_banner',
            timestamp: '2026-11-24T10:00:00Z',
            ad_user_data: 'granted',
            ad_personalization: 'granted',
          },
        }),
      }),
    );
    expect(banner.kind).toBe('event');
  });

  it('ad personalisation denied: the event is for attribution only (opt_out)', () => {
    const event = eventOf(
      input({
        lead: lead({ consent: { status: 'granted', ad_user_data: 'granted', ad_personalization: 'denied' } }),
      }),
    );
    expect(event.opt_out).toBe(true);
    expect(eventOf(input())).not.toHaveProperty('opt_out');
  });

  it('Limited Data Use from the tenant setting, Meta geolocating the event', () => {
    const event = eventOf(input(), true);
    expect(event.data_processing_options).toEqual(['LDU']);
    expect(event.data_processing_options_country).toBe(0);
    expect(event.data_processing_options_state).toBe(0);
  });

  it('a raw fbclid conversion follows the consent it carries', () => {
    expect(built(input({ lead: undefined, consent: { ad_user_data: 'denied' } }))).toEqual({
      kind: 'cancelled',
      reason: 'consent_withdrawn',
    });
    const attributionOnly = eventOf(
      input({ lead: undefined, consent: { ad_user_data: 'granted', ad_personalization: 'denied' } }),
    );
    expect(attributionOnly.opt_out).toBe(true);
  });

  it('a raw fbclid conversion (no lead) carries only the click id', () => {
    const event = eventOf(input({ lead: undefined, clickTime: '2026-11-24T08:00:00.000Z' }));
    expect(event.user_data).toEqual({ fbc: `fb.1.${Date.parse('2026-11-24T08:00:00.000Z')}.${FBCLID}` });
    expect(event).not.toHaveProperty('opt_out');
  });

  it('the 7-day rule: refused before sending with the exact message', () => {
    expect(built(input({ conversionTime: '2026-11-17T11:59:00.000Z' }))).toEqual({
      kind: 'invalid',
      reason: TOO_OLD,
    });
    expect(TOO_OLD).toBe('Conversion is too old (must be within 7 days)');
    expect(built(input({ conversionTime: '2026-11-18T12:00:01.000Z' })).kind).toBe('event');
    const seconds = Date.parse('2026-11-18T11:00:00Z') / 1000;
    expect(isTooOld(seconds, NOW)).toBe(true);
    expect(isTooOld(seconds + 3600, NOW)).toBe(false);
  });

  it('refuses what Meta would refuse for the whole batch', () => {
    expect(built(input({ conversionTime: '2026-11-26T12:00:00.000Z' }))).toEqual({
      kind: 'invalid',
      reason: 'The conversion time is in the future',
    });
    expect(built(input({ conversionTime: 'yesterday' })).kind).toBe('invalid');
    expect(built(input({ fbclid: 'bad value!' }))).toEqual({
      kind: 'invalid',
      reason: 'The fbclid is not a Meta click id',
    });
    expect(built(input({ value: undefined })).kind).toBe('invalid');
    expect(built(input({ currency: 'euro' })).kind).toBe('invalid');
    expect(built(input({ value: -1 })).kind).toBe('invalid');
    expect(built(input({ eventName: 'Lead', value: undefined, currency: undefined })).kind).toBe('event');
    const event = eventOf(input());
    expect(eventProblem({ ...event, action_source: 'website' }, NOW)).toMatch(/website event needs/);
    expect(
      eventProblem({ ...event, user_data: { ...event.user_data, em: ['Buyer@Example.com'] } }, NOW),
    ).toBe('user_data.em must be SHA-256 hex');
    expect(eventProblem({ ...event, user_data: { fbc: 'fb.1.123.x' } }, NOW)).toMatch(/fbc/);
    expect(eventProblem({ ...event, event_id: '' }, NOW)).toBe('event_id is required');
    expect(eventProblem({ ...event, event_name: '' }, NOW)).toBe('event_name is required');
    expect(eventProblem({ ...event, event_time: 1.5 }, NOW)).toBe('event_time must be whole seconds');
  });
});

describe('requests and batches', () => {
  it('at most 1,000 events per request, per pixel, in order', () => {
    const items = Array.from({ length: 2_501 }, (_, i) => i);
    const groups = batches(items);
    expect(groups.map((g) => g.length)).toEqual([1000, 1000, 501]);
    expect(groups.flat()).toEqual(items);
    expect(MAX_EVENTS_PER_REQUEST).toBe(1000);
    expect(batches([])).toEqual([]);
    expect(() => batches(items, 0)).toThrow();
    const perPixel = batchesPerPixel(items, (i) => (i % 2 ? '111111' : '222222'));
    expect(perPixel.get('111111')?.map((g) => g.length)).toEqual([1000, 250]);
    expect(perPixel.get('222222')?.map((g) => g.length)).toEqual([1000, 251]);
  });

  it('the body holds data and the test code, never the token', () => {
    const event = eventOf(input());
    expect(eventsRequest([event])).toEqual({ data: [event] });
    expect(eventsRequest([event], 'TEST123')).toEqual({ data: [event], test_event_code: 'TEST123' });
  });
});

describe("Meta's answers", () => {
  const failure = (status: number, error: Record<string, unknown> | undefined) =>
    failureOf(
      status,
      error ? { error: { message: 'Invalid parameter', type: 'OAuthException', ...error } } : undefined,
    );

  it('190 and 102 disconnect; 2635 is configuration', () => {
    expect(failure(400, { code: 190, error_subcode: 463 }).kind).toBe('disconnected');
    expect(failure(400, { code: 102 }).kind).toBe('disconnected');
    expect(failure(400, { code: 190 }).message).not.toMatch(/EAA/);
    expect(failure(400, { code: 2635 }).kind).toBe('configuration');
  });

  it('throttling (4, 17, 32, 613, 80004) and transient (1, 2, is_transient, 5xx, no body) are retried', () => {
    for (const code of [4, 17, 32, 613, 80004]) expect(failure(400, { code }).kind).toBe('throttled');
    for (const code of [1, 2]) expect(failure(500, { code }).kind).toBe('transient');
    expect(failure(400, { code: 3000, is_transient: true }).kind).toBe('transient');
    expect(failure(503, undefined).kind).toBe('transient');
    expect(failureOf(502, '<html>bad gateway</html>').kind).toBe('transient');
  });

  it("100 and other client errors reject the event with Meta's message", () => {
    const tooOld = failure(400, {
      code: 100,
      error_subcode: 2804003,
      error_user_title: 'Event Timestamp Too Old',
      error_user_msg: 'The timestamp for this event is too far in the past.',
    });
    expect(tooOld.kind).toBe('rejected');
    expect(tooOld.message).toBe(
      'Meta rejected the event: The timestamp for this event is too far in the past.',
    );
    expect(tooOld.subcode).toBe(2804003);
    expect(failure(400, { code: 200 }).kind).toBe('rejected');
    expect(failure(400, { code: 100 }).message).toBe('Meta rejected the event: Invalid parameter');
  });
});

describe('the client', () => {
  const call = (events: MetaServerEvent[]) => ({
    pixelId: '1234567890',
    accessToken: 'EAAB-secret-token-value',
    body: eventsRequest(events),
  });
  const respond = (status: number, body: unknown) => async () =>
    new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

  afterEach(() => {
    delete process.env.META_GRAPH_BASE_URL;
    delete process.env.META_GRAPH_API_VERSION;
  });

  it('posts JSON to /{version}/{pixel}/events with the token as a bearer header', async () => {
    process.env.META_GRAPH_BASE_URL = 'http://127.0.0.1:9/';
    let seen: { url: string; init: RequestInit } | undefined;
    const event = eventOf(input());
    const answer = await postEvents(call([event]), async (url, init) => {
      seen = { url: String(url), init: init as RequestInit };
      return respond(200, { events_received: 1, messages: [], fbtrace_id: 'AbC' })();
    });
    expect(answer).toEqual({ eventsReceived: 1, fbtraceId: 'AbC' });
    expect(seen?.url).toBe(`http://127.0.0.1:9/${DEFAULT_GRAPH_API_VERSION}/1234567890/events`);
    expect(seen?.url).not.toContain('EAAB');
    expect(seen?.init.headers).toEqual({
      'Content-Type': 'application/json',
      Authorization: 'Bearer EAAB-secret-token-value',
    });
    expect(JSON.parse(String(seen?.init.body))).toEqual({ data: [event] });
    expect(DEFAULT_GRAPH_API_VERSION).toBe('v27.0');
    process.env.META_GRAPH_API_VERSION = 'v26.0';
    expect(eventsUrl('42424242')).toBe('http://127.0.0.1:9/v26.0/42424242/events');
    expect(() => eventsUrl('../me')).toThrow();
  });

  it('a short events_received count, an error answer and a timeout are MetaFailures', async () => {
    const event = eventOf(input());
    await expect(
      postEvents(call([event, event]), respond(200, { events_received: 1 })),
    ).rejects.toMatchObject({
      kind: 'transient',
      message: 'Meta received 1 of 2 events',
    });
    await expect(
      postEvents(
        call([event]),
        respond(400, { error: { code: 190, type: 'OAuthException', message: 'expired' } }),
      ),
    ).rejects.toMatchObject({ kind: 'disconnected', code: 190 });
    const timeout = Object.assign(new Error('timed out'), { name: 'TimeoutError' });
    await expect(
      postEvents(call([event]), async () => {
        throw timeout;
      }),
    ).rejects.toMatchObject({ kind: 'transient', message: 'Meta did not answer within 1.5 s' });
    await expect(
      postEvents(call([event]), async () => {
        throw new TypeError('fetch failed');
      }),
    ).rejects.toMatchObject({ kind: 'transient', message: 'Meta could not be reached' });
  });
});

describe('isolating a rejected event in a batch', () => {
  const rejected = new MetaFailure('rejected', 'Meta rejected the event: bad one', 100);

  it('splits a refused batch until the bad events stand alone; the others are delivered', async () => {
    const items = Array.from({ length: 10 }, (_, i) => i);
    const bad = new Set([3, 8]);
    const sent: number[][] = [];
    const report = await deliverIsolating(items, async (group) => {
      sent.push([...group]);
      if (group.some((i) => bad.has(i))) throw rejected;
      return { eventsReceived: group.length, fbtraceId: 't' };
    });
    expect(report.outcomes.map((o) => o.kind)).toEqual(
      items.map((i) => (bad.has(i) ? 'rejected' : 'delivered')),
    );
    expect(report.outcomes[3]).toEqual({ kind: 'rejected', reason: 'Meta rejected the event: bad one' });
    expect(report.requestSizes[0]).toBe(10);
    // Accepted requests cover exactly the delivered events.
    const covered = report.accepted.flatMap((r) => items.slice(r.from, r.to));
    expect(covered.sort((x, y) => x - y)).toEqual(items.filter((i) => !bad.has(i)));
    expect(report.accepted.every((r) => r.fbtraceId === 't' && r.durationMs >= 0)).toBe(true);
    expect(report.requestSizes.length).toBe(sent.length);
    expect(sent.length).toBeLessThanOrEqual(1 + 2 * 2 * Math.ceil(Math.log2(10)));
  });

  it('a clean batch costs one request', async () => {
    const report = await deliverIsolating([1, 2, 3], async (g) => ({ eventsReceived: g.length }));
    expect(report.requestSizes).toEqual([3]);
    expect(report.outcomes).toEqual([{ kind: 'delivered' }, { kind: 'delivered' }, { kind: 'delivered' }]);
  });

  it('a disconnect or throttling stops the batch: the rest waits unsent', async () => {
    const disconnected = new MetaFailure('disconnected', 'token refused', 190);
    let calls = 0;
    const report = await deliverIsolating([1, 2, 3, 4], async () => {
      calls += 1;
      if (calls === 1) throw rejected;
      throw disconnected;
    });
    expect(calls).toBe(2);
    expect(report.outcomes.every((o) => o.kind === 'unsent' && o.failure === disconnected)).toBe(true);
  });

  it('a transient failure of one half leaves the other half delivered', async () => {
    const transient = new MetaFailure('transient', 'Meta answered 500');
    const report = await deliverIsolating([1, 2, 3, 4], async (group) => {
      if (group.length === 4) throw rejected;
      if (group.includes(1)) throw transient;
      return { eventsReceived: group.length };
    });
    expect(report.outcomes.map((o) => o.kind)).toEqual(['unsent', 'unsent', 'delivered', 'delivered']);
  });

  it('other errors are not swallowed', async () => {
    await expect(
      deliverIsolating([1], async () => {
        throw new Error('bug');
      }),
    ).rejects.toThrow('bug');
    expect((await deliverIsolating([], async () => ({ eventsReceived: 0 }))).requestSizes).toEqual([]);
  });
});

describe('settings', () => {
  it('validates the body and never shows the token', () => {
    const parsed = metaSettingsBody.parse({
      pixel_id: ' 1234567890 ',
      access_token: 'EAAB'.padEnd(40, 'x'),
      test_event_code: 'TEST4242',
      lead_events: true,
    });
    const stored = metaIntegrationOf(parsed, 'sealed-base64', NOW);
    // Spelled out in full on purpose, as the oracle of the public settings.
    expect(publicMetaSettings(stored)).toEqual({
      pixel_id: '1234567890',
      test_event_code: 'TEST4242',
      lead_events: true,
      limited_data_use: false,
      match_by_user_data: true,
      status: 'connected',
      updated_at: NOW.toISOString(),
    });
    const off = metaIntegrationOf(
      metaSettingsBody.parse({
        pixel_id: '1234567890',
        access_token: 'EAAB'.padEnd(40, 'x'),
        match_by_user_data: false,
      }),
      'sealed-base64',
      NOW,
    );
    expect(publicMetaSettings(off).match_by_user_data).toBe(false);
    // Saved before the setting existed: on.
    const { match_by_user_data: _unset, ...older } = stored;
    expect(publicMetaSettings(older).match_by_user_data).toBe(true);
    const bad = metaSettingsBody.safeParse({
      pixel_id: 'abc',
      access_token: 'short',
      test_event_code: 'a b',
    });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => i.path.join('.')).sort()).toEqual([
      'access_token',
      'pixel_id',
      'test_event_code',
    ]);
  });
});

describe('the Meta provider', () => {
  const integration = {
    ...metaIntegrationOf(
      { pixel_id: '1234567890', access_token: 'x'.repeat(20), limited_data_use: true },
      'sealed',
      NOW,
    ),
    test_event_code: 'TEST9',
  };
  const row = (id: string, overrides: Partial<LoggedConversion> = {}): UploadRow => ({
    conversion: {
      id,
      platform: 'meta',
      status: 'queued',
      attempts: 0,
      conversion_time: '2026-11-25T10:00:00.000Z',
      order_id: `o-${id}`,
      value: 10,
      currency: 'EUR',
      click_id_type: 'fbclid',
      click_id: FBCLID,
      created_at: '2026-11-25T10:00:00.000Z',
      updated_at: '2026-11-25T10:00:00.000Z',
      ...overrides,
    },
  });
  const deps = (post: MetaProviderDeps['post'], given: typeof integration | null = integration) => {
    const stored = given ?? undefined;
    const disconnects: string[] = [];
    let opened = 0;
    const provider = metaProvider({
      integrations: {
        get: async () => stored,
        disconnect: async (_tenant, sealed) => {
          disconnects.push(sealed);
          return true;
        },
      },
      accessToken: async () => {
        opened += 1;
        return 'EAAB-opened-token';
      },
      post,
      now: () => NOW,
      clock: () => 0,
    });
    return { provider, disconnects, opened: () => opened };
  };

  it('connects ready, missing or parked; opens the token once per session', async () => {
    const { provider, opened } = deps(async (call) => ({
      eventsReceived: call.body.data.length,
      fbtraceId: 'TR',
    }));
    const ready = await provider.connect('ten_1');
    if (ready.kind !== 'ready') throw new Error('not ready');
    expect(ready.account).toBe('1234567890');
    const sent = await provider.send(ready.session, [row('c1'), row('c2')], NOW);
    await provider.send(ready.session, [row('c3')], NOW);
    expect(opened()).toBe(1);
    expect(sent).toEqual({
      outcomes: [{ kind: 'uploaded' }, { kind: 'uploaded' }],
      requestIds: ['TR', 'TR'],
      requests: [{ requestId: 'TR', rows: [0, 1], durationMs: 0 }],
    });
    expect(provider.waitsForReconnect).toBe(true);
    expect((await deps(async () => ({ eventsReceived: 0 }), null).provider.connect('t')).kind).toBe(
      'missing',
    );
    const parked = await deps(async () => ({ eventsReceived: 0 }), {
      ...integration,
      status: 'disconnected',
      status_reason: 'Meta refused the access token (code 190)',
    }).provider.connect('t');
    expect(parked).toEqual({ kind: 'parked', reason: 'Meta refused the access token (code 190)' });
  });

  it('sends the tenant settings: pixel, test code, Limited Data Use, the event name of the conversion', async () => {
    const calls: EventsCall[] = [];
    const { provider } = deps(async (call) => {
      calls.push(call);
      return { eventsReceived: call.body.data.length };
    });
    const ready = await provider.connect('t');
    if (ready.kind !== 'ready') throw new Error('not ready');
    await provider.send(
      ready.session,
      [row('c1', { event_name: 'Lead', value: undefined, currency: undefined })],
      NOW,
    );
    expect(calls[0]?.pixelId).toBe('1234567890');
    expect(calls[0]?.accessToken).toBe('EAAB-opened-token');
    expect(calls[0]?.body.test_event_code).toBe('TEST9');
    expect(calls[0]?.body.data[0]).toMatchObject({ event_name: 'Lead', data_processing_options: ['LDU'] });
  });

  it('rejection reasons: the 7-day rule and consent a raw click carries', () => {
    const { provider } = deps(async () => ({ eventsReceived: 0 }));
    expect(provider.rejectionReason(row('old', { conversion_time: '2026-11-10T00:00:00.000Z' }), NOW)).toBe(
      TOO_OLD,
    );
    expect(provider.rejectionReason(row('denied', { consent: { ad_user_data: 'denied' } }), NOW)).toMatch(
      /consent/,
    );
    expect(provider.rejectionReason(row('ok'), NOW)).toBeUndefined();
  });

  it('a refused event fails alone; a transient failure after some went out reschedules the rest soon', async () => {
    let call = 0;
    const { provider } = deps(async (c) => {
      call += 1;
      if (call === 1) throw new MetaFailure('rejected', 'Meta rejected the event: bad', 100);
      if (c.body.data.some((e) => e.event_id === 'bad'))
        throw new MetaFailure('rejected', 'Meta rejected the event: bad', 100);
      if (c.body.data.some((e) => e.event_id === 'later'))
        throw new MetaFailure('transient', 'Meta answered 500');
      return { eventsReceived: c.body.data.length };
    });
    const ready = await provider.connect('t');
    if (ready.kind !== 'ready') throw new Error('not ready');
    const sent = await provider.send(
      ready.session,
      [row('bad'), row('ok'), row('later'), row('later2')],
      NOW,
    );
    expect(sent.outcomes).toEqual([
      { kind: 'failed', reason: 'Meta rejected the event: bad' },
      { kind: 'uploaded' },
      { kind: 'rescheduled', reason: 'Meta answered 500', code: 'META_RETRY', afterSeconds: 60 },
      { kind: 'rescheduled', reason: 'Meta answered 500', code: 'META_RETRY', afterSeconds: 60 },
    ]);
  });

  it('whole-call failures become the uploader failures; a disconnect marks the token it used', async () => {
    const failing = (failure: MetaFailure) => deps(async () => Promise.reject(failure));
    const cases: Array<[MetaFailure, string, number | undefined]> = [
      [new MetaFailure('disconnected', 'token refused', 190), 'disconnected', undefined],
      [new MetaFailure('configuration', 'version gone', 2635), 'platform', undefined],
      [new MetaFailure('throttled', 'rate limited', 17), 'transient', THROTTLE_WAIT_SECONDS],
      [new MetaFailure('transient', 'timed out'), 'transient', undefined],
    ];
    for (const [failure, kind, retryAfter] of cases) {
      const { provider, disconnects } = failing(failure);
      const ready = await provider.connect('t');
      if (ready.kind !== 'ready') throw new Error('not ready');
      const error = await provider.send(ready.session, [row('c1')], NOW).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderFailure);
      expect(error).toMatchObject({ kind, message: failure.message, retryAfterSeconds: retryAfter });
      await provider.onFailure('t', ready.session, error as ProviderFailure);
      expect(disconnects).toEqual(kind === 'disconnected' ? ['sealed'] : []);
    }
    expect(providerFailureOf(new MetaFailure('rejected', 'no', 100)).kind).toBe('rejected');
  });

  it('a conversion that cannot become an event fails without a request', async () => {
    const { provider, opened } = deps(async () => {
      throw new Error('no request expected');
    });
    const ready = await provider.connect('t');
    if (ready.kind !== 'ready') throw new Error('not ready');
    const sent = await provider.send(ready.session, [row('x', { click_id: 'not a click id' })], NOW);
    expect(sent.outcomes).toEqual([{ kind: 'failed', reason: 'The fbclid is not a Meta click id' }]);
    expect(opened()).toBe(0);
  });
});

describe('lead events', () => {
  const stored = (overrides: Partial<StoredLead> = {}): StoredLead =>
    storedLead({
      id: 'lead_01ABC',
      email: 'a@example.com',
      fbclid: FBCLID,
      status: 'new',
      created_at: '2026-11-25T09:00:00.000Z',
      updated_at: '2026-11-25T09:00:00.000Z',
      ...overrides,
    });

  it('a Lead conversion derived from the lead, queued only when the tenant asked for lead events', async () => {
    expect(leadEventConversion(stored())).toMatchObject({
      id: 'cnv_01ABCl',
      platform: 'meta',
      event_name: 'Lead',
      conversion_time: '2026-11-25T09:00:00.000Z',
      click_id: FBCLID,
    });
    expect(leadEventConversion(stored({ fbclid: undefined }))).toBeUndefined();
    const queued: string[] = [];
    const leadDeps = (leadEvents: boolean | undefined) => ({
      integration: async () =>
        leadEvents === undefined
          ? undefined
          : {
              ...metaIntegrationOf(
                { pixel_id: '123456', access_token: 'x'.repeat(20), lead_events: leadEvents },
                's',
                NOW,
              ),
            },
      queue: async (_scope: unknown, conversion: { id: string }) => {
        queued.push(conversion.id);
        return 'queued' as const;
      },
    });
    const scope = { tenantId: 't' } as never;
    expect(await queueLeadEvent(leadDeps(true), scope, stored())).toBe(true);
    expect(await queueLeadEvent(leadDeps(false), scope, stored())).toBe(false);
    expect(await queueLeadEvent(leadDeps(undefined), scope, stored())).toBe(false);
    expect(await queueLeadEvent(leadDeps(true), scope, stored({ restricted: true }))).toBe(false);
    expect(queued).toEqual(['cnv_01ABCl']);
  });
});
