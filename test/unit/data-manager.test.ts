import type { Conversion } from '../../functions/shared/features/conversions/model';
import type { UploadRow } from '../../functions/shared/features/conversions/ports-provider';
import type { StoredLead } from '../../functions/shared/features/leads/model';
import {
  DataManagerRejection,
  dataManagerCall,
  ingestEvents,
  retrieveRequestStatus,
} from '../../functions/shared/providers/google-ads/data-manager/client';
import { perProcessLimit, QuotaPacer } from '../../functions/shared/providers/google-ads/data-manager/pacer';
import {
  destination,
  eventProblem,
  type IngestEvent,
  ingestEvent,
  ingestRequest,
  restatementEvent,
} from '../../functions/shared/providers/google-ads/data-manager/request';
import {
  DATA_MANAGER_WARNING_REASONS,
  errorSummary,
  eventIndexOf,
  fieldWarningsOf,
  processingStatusOf,
  violationReason,
  warningReasonGroup,
} from '../../functions/shared/providers/google-ads/data-manager/results';
import { sendEvents } from '../../functions/shared/providers/google-ads/data-manager/send';
import type { StoredGoogleAdsIntegration } from '../../functions/shared/providers/google-ads/integration';
import {
  dataManagerTransport,
  googleAdsApiTransport,
  googleProvider,
  uploadApi,
} from '../../functions/shared/providers/google-ads/provider';
import { GoogleAdsFailure, TokenCache } from '../../functions/shared/providers/google-ads/tokens';
import { gbraid, gclid } from '../support/click-ids';
import { storedConversion, storedLead } from '../support/fixtures';
import { sha } from '../support/hashing';

const target = { customerId: '1234567890', conversionActionId: '555', currency: 'USD' };

const conversion = (overrides: Partial<Conversion> = {}): Conversion => storedConversion(overrides);

/**
 * The shared stored lead with its address and phone as a person typed them: what Google's
 * normalisation must turn into the hashes written out in the expected requests below. Those
 * requests are spelled out in full on purpose, as the oracle of the request builder.
 */
const lead = (overrides: Partial<StoredLead> = {}): StoredLead =>
  storedLead({ email: ' Jane.Doe@GoogleMail.com ', phone: '+4915123456789', ...overrides });

const respond = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(body === undefined ? '' : JSON.stringify(body), { status, headers });

describe('Data Manager request building (Google field names)', () => {
  it('builds the event: one ad identifier, transaction id, RFC 3339 time, value, currency, consent, hex hashes', () => {
    expect(ingestEvent(conversion({ event_source: 'web' }), lead(), target)).toEqual({
      adIdentifiers: { gclid: gclid(1) },
      transactionId: 'order-1',
      eventTimestamp: '2026-11-24T08:30:00.000Z',
      eventSource: 'WEB',
      conversionValue: 19.5,
      currency: 'EUR',
      consent: { adUserData: 'CONSENT_GRANTED' },
      userData: {
        userIdentifiers: [
          { emailAddress: sha('janedoe@googlemail.com') },
          { phoneNumber: sha('+4915123456789') },
        ],
      },
    });
  });

  it('denied or restricted consent sends CONSENT_DENIED and nothing personal; a raw click id sends its own consent or none', () => {
    const denied = ingestEvent(
      conversion(),
      lead({ consent: { status: 'granted', ad_user_data: 'denied', ad_personalization: 'denied' } }),
      target,
    );
    expect(denied.consent).toEqual({ adUserData: 'CONSENT_DENIED' });
    expect(denied.userData).toBeUndefined();
    expect(ingestEvent(conversion(), lead({ restricted: true }), target).consent).toEqual({
      adUserData: 'CONSENT_DENIED',
    });
    const raw = ingestEvent(
      conversion({ lead_id: undefined, click_id_type: 'gbraid', click_id: gbraid(2), order_id: undefined }),
      undefined,
      target,
    );
    expect(raw).toEqual({
      adIdentifiers: { gbraid: gbraid(2) },
      transactionId: 'cnv_1',
      eventTimestamp: '2026-11-24T08:30:00.000Z',
      eventSource: 'OTHER',
      conversionValue: 19.5,
      currency: 'EUR',
    });
    expect(
      ingestEvent(
        conversion({ consent: { ad_user_data: 'granted' }, currency: undefined }),
        undefined,
        target,
      ),
    ).toMatchObject({ consent: { adUserData: 'CONSENT_GRANTED' }, currency: 'USD' });
    expect(ingestEvent(conversion({ value: undefined }), undefined, target)).not.toHaveProperty('currency');
  });

  it('destinations name the operating account, the manager account and the conversion action', () => {
    expect(destination({ ...target, loginCustomerId: '9998887777' })).toEqual({
      operatingAccount: { accountType: 'GOOGLE_ADS', accountId: '1234567890' },
      loginAccount: { accountType: 'GOOGLE_ADS', accountId: '9998887777' },
      productDestinationId: '555',
    });
    const event = ingestEvent(conversion(), undefined, target);
    expect(ingestRequest([event], target)).toEqual({
      destinations: [destination(target)],
      events: [event],
      encoding: 'HEX',
    });
    expect(() => ingestRequest([], target)).toThrow();
    expect(() =>
      ingestRequest(
        Array.from({ length: 2001 }, () => event),
        target,
      ),
    ).toThrow();
  });

  it('a restatement repeats the transaction id and identifiers with the new value', () => {
    const at = new Date('2026-11-26T10:00:00Z');
    expect(restatementEvent(conversion(), lead(), target, 7.25, undefined, at)).toMatchObject({
      adIdentifiers: { gclid: gclid(1) },
      transactionId: 'order-1',
      eventTimestamp: '2026-11-24T08:30:00.000Z',
      conversionValue: 7.25,
      currency: 'EUR',
      lastUpdatedTimestamp: '2026-11-26T10:00:00.000Z',
    });
  });

  it('checks every event against the rules Google applies', () => {
    const good = ingestEvent(conversion(), lead(), target);
    expect(eventProblem(good)).toBeUndefined();
    const bad: Array<[Partial<IngestEvent>, string]> = [
      [{ adIdentifiers: {} }, 'exactly one of gclid'],
      [{ adIdentifiers: { gclid: gclid(1), gbraid: gbraid(1) } }, 'exactly one of gclid'],
      [{ adIdentifiers: { gclid: 'bad id!' } }, 'malformed'],
      [{ transactionId: '' }, 'transactionId'],
      [{ eventTimestamp: '2026-11-24 08:30:00' }, 'RFC 3339'],
      [{ eventSource: 'SHOP' as never }, 'eventSource'],
      [{ conversionValue: -1 }, 'conversionValue'],
      [{ currency: 'euro' }, 'currency'],
      [{ userData: { userIdentifiers: [{ emailAddress: 'JANE@EXAMPLE.COM' }] } }, 'SHA-256'],
      [
        { userData: { userIdentifiers: Array.from({ length: 11 }, () => ({ emailAddress: sha('x') })) } },
        'at most 10',
      ],
    ];
    for (const [change, message] of bad) expect(eventProblem({ ...good, ...change })).toContain(message);
  });
});

describe('Data Manager answers', () => {
  const rejection = (violations: Array<{ field?: string; reason?: string; description?: string }>) => ({
    error: {
      code: 400,
      status: 'INVALID_ARGUMENT',
      message: 'There was a problem with the request.',
      details: [
        { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'INVALID_ARGUMENT' },
        { '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: violations },
      ],
    },
  });

  it('finds the events a rejection names, and readable reasons', () => {
    expect(eventIndexOf('events.events[12].user_data.user_identifiers[1]')).toBe(12);
    expect(eventIndexOf('events[3].ad_identifiers')).toBe(3);
    expect(eventIndexOf('destinations[0]')).toBeUndefined();
    const summary = errorSummary(
      rejection([
        {
          field: 'events.events[1].ad_identifiers.gclid',
          reason: 'INVALID_FORMAT',
          description: 'Format is invalid.',
        },
        { field: 'encoding', reason: 'REQUIRED_FIELD_MISSING' },
      ]),
    );
    expect(summary).toEqual({
      status: 'INVALID_ARGUMENT',
      message: 'There was a problem with the request.',
      reasons: ['INVALID_ARGUMENT'],
      violations: [
        { eventIndex: 1, reason: 'INVALID_FORMAT', description: 'Format is invalid.' },
        { reason: 'REQUIRED_FIELD_MISSING' },
      ],
    });
    expect(violationReason(summary.violations[0])).toBe(
      'Google rejected the conversion: Google could not read a field of the conversion (INVALID_FORMAT)',
    );
    expect(violationReason({ reason: 'SOMETHING_NEW', description: 'New rule.' })).toBe(
      'Google rejected the conversion: New rule. (SOMETHING_NEW)',
    );
    expect(violationReason(undefined)).toBe('Google rejected the conversion: no reason given');
    expect(errorSummary(undefined)).toEqual({ reasons: [], violations: [] });
  });

  it('reads the processing status per destination with error and warning counts by reason', () => {
    expect(
      processingStatusOf({
        requestStatusPerDestination: [
          {
            requestStatus: 'PARTIAL_SUCCESS',
            eventsIngestionStatus: { recordCount: '3' },
            errorInfo: {
              errorCounts: [{ recordCount: '2', reason: 'PROCESSING_ERROR_REASON_INVALID_GCLID' }],
            },
            warningInfo: {
              warningCounts: [{ recordCount: 1, reason: 'SOME_WARNING' }, { recordCount: '1' }],
            },
          },
        ],
      }),
    ).toEqual({
      state: 'partially_succeeded',
      errors: { PROCESSING_ERROR_REASON_INVALID_GCLID: 2 },
      warnings: { SOME_WARNING: 1, UNSPECIFIED: 1 },
      records: 3,
    });
    expect(processingStatusOf({ requestStatusPerDestination: [{ requestStatus: 'PROCESSING' }] }).state).toBe(
      'processing',
    );
    expect(processingStatusOf({}).state).toBe('unknown');
  });

  it('calls events:ingest and requestStatus:retrieve; maps 429 with RetryInfo, 5xx, 401, 403 and 400', async () => {
    process.env.GOOGLE_DATA_MANAGER_BASE_URL = 'http://127.0.0.1:9/';
    try {
      const calls: Array<{ url: string; init?: RequestInit }> = [];
      const ok = async (url: string | URL | Request, init?: RequestInit) => {
        calls.push({ url: String(url), init });
        return respond(
          200,
          String(url).includes('ingest') ? { requestId: 'r-1' } : { requestStatusPerDestination: [] },
        );
      };
      const body = ingestRequest([ingestEvent(conversion(), undefined, target)], target);
      expect(await ingestEvents('tok', body, ok)).toEqual({ requestId: 'r-1' });
      expect(calls[0]?.url).toBe('http://127.0.0.1:9/v1/events:ingest');
      expect(calls[0]?.init?.method).toBe('POST');
      expect(new Headers(calls[0]?.init?.headers).get('authorization')).toBe('Bearer tok');
      expect(new Headers(calls[0]?.init?.headers).has('developer-token')).toBe(false);
      expect(JSON.parse(String(calls[0]?.init?.body))).toEqual(body);
      await retrieveRequestStatus('tok', 'r-1', ok);
      expect(calls[1]?.url).toBe('http://127.0.0.1:9/v1/requestStatus:retrieve?requestId=r-1');
      expect(await ingestEvents('tok', body, async () => respond(200, {}))).toEqual({});

      const call = (status: number, answer: unknown, headers?: Record<string, string>) =>
        dataManagerCall({ method: 'GET', path: '/v1/x', accessToken: 't' }, async () =>
          respond(status, answer, headers),
        );
      await expect(
        call(429, {
          error: {
            code: 429,
            status: 'RESOURCE_EXHAUSTED',
            details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '7s' }],
          },
        }),
      ).rejects.toMatchObject({ kind: 'transient', retryAfterSeconds: 7, status: 429 });
      await expect(call(429, undefined, { 'retry-after': '3' })).rejects.toMatchObject({
        retryAfterSeconds: 3,
      });
      await expect(call(503, undefined)).rejects.toMatchObject({ kind: 'transient', status: 503 });
      await expect(call(401, undefined)).rejects.toMatchObject({ kind: 'transient', status: 401 });
      await expect(call(403, { error: { status: 'PERMISSION_DENIED' } })).rejects.toMatchObject({
        kind: 'configuration',
      });
      const rejected = (await call(400, rejection([{ field: 'events.events[0].currency' }])).catch(
        (e: unknown) => e,
      )) as DataManagerRejection;
      expect(rejected).toBeInstanceOf(DataManagerRejection);
      expect(rejected.summary.violations).toEqual([{ eventIndex: 0 }]);
      await expect(
        dataManagerCall({ method: 'GET', path: '/v1/x', accessToken: 't' }, async () => {
          throw Object.assign(new Error('slow'), { name: 'TimeoutError' });
        }),
      ).rejects.toMatchObject({ kind: 'transient', message: 'The Data Manager API timed out' });
    } finally {
      delete process.env.GOOGLE_DATA_MANAGER_BASE_URL;
    }
  });
});

describe('splitting a rejected batch', () => {
  const events = Array.from({ length: 8 }, (_, i) =>
    ingestEvent(conversion({ click_id: gclid(100 + i) }), undefined, target),
  );
  const reject = (named: number[]) =>
    new DataManagerRejection(
      'rejected',
      {
        reasons: [],
        violations: named.map((eventIndex) => ({ eventIndex, reason: 'INVALID_FORMAT' })),
      },
      400,
    );

  it('fails the events Google names and sends the rest once', async () => {
    const sent: string[][] = [];
    const result = await sendEvents(events, async (batch) => {
      sent.push(batch.map((e) => e.adIdentifiers?.gclid as string));
      const bad = batch.flatMap((e, i) =>
        [gclid(102), gclid(105)].includes(e.adIdentifiers?.gclid as string) ? [i] : [],
      );
      if (bad.length) throw reject(bad);
      return { requestId: `r-${sent.length}` };
    });
    expect(sent.map((s) => s.length)).toEqual([8, 6]);
    expect(result.outcomes.map((o) => o.kind)).toEqual([
      'uploaded',
      'uploaded',
      'failed',
      'uploaded',
      'uploaded',
      'failed',
      'uploaded',
      'uploaded',
    ]);
    expect(result.outcomes[2]).toEqual({
      kind: 'failed',
      reason:
        'Google rejected the conversion: Google could not read a field of the conversion (INVALID_FORMAT)',
      code: 'INVALID_FORMAT',
    });
    expect(result.requestIds).toEqual(['r-2', 'r-2', undefined, 'r-2', 'r-2', undefined, 'r-2', 'r-2']);
    expect(result.requests).toEqual([
      { requestId: 'r-2', rows: [0, 1, 3, 4, 6, 7], durationMs: expect.any(Number), processedLater: true },
    ]);
  });

  it('halves the batch when the error names no event, until the bad ones stand alone', async () => {
    const sizes: number[] = [];
    const result = await sendEvents(events, async (batch) => {
      sizes.push(batch.length);
      if (batch.some((e) => [gclid(101), gclid(106)].includes(e.adIdentifiers?.gclid as string)))
        throw new DataManagerRejection(
          'bad',
          { reasons: [], violations: [], message: 'There was a problem.' },
          400,
        );
      return { requestId: `r-${sizes.length}` };
    });
    expect(result.outcomes.filter((o) => o.kind === 'failed')).toHaveLength(2);
    expect(result.outcomes[1]).toEqual({
      kind: 'failed',
      reason: 'Google rejected the conversion: There was a problem.',
    });
    expect(result.outcomes[6]?.kind).toBe('failed');
    expect(result.outcomes.filter((o) => o.kind === 'uploaded')).toHaveLength(6);
    // 8 → 4+4 → 2+2+2+2 → singles of the two bad pairs: bounded by 2 × bad × log2(n).
    expect(sizes.length).toBeLessThanOrEqual(2 * 2 * 3 + 1);
  });

  it('fails events Google would refuse without sending them; other failures propagate', async () => {
    const broken = [...events.slice(0, 2), { ...events[2], currency: 'eur' } as IngestEvent];
    const sent: number[] = [];
    const result = await sendEvents(broken, async (batch) => {
      sent.push(batch.length);
      return { requestId: 'r' };
    });
    expect(sent).toEqual([2]);
    expect(result.outcomes[2]).toEqual({
      kind: 'failed',
      reason: 'The conversion cannot be sent: currency must be an ISO 4217 code',
    });
    await expect(
      sendEvents(events, async () => {
        throw new GoogleAdsFailure('transient', 'down');
      }),
    ).rejects.toThrow('down');
  });
});

describe('field warnings (Data Manager API v1.8)', () => {
  // IngestEventsResponse and FieldWarning {reason, description, field} as documented:
  // https://developers.google.com/data-manager/api/reference/rest/v1/FieldWarning
  const answer = {
    requestId: 'r-9',
    fieldWarnings: [
      {
        reason: 'WARNING_REASON_INVALID_CLIENT_ID',
        description: 'The client_id 555.123 is invalid.',
        field: 'events.events[2].client_id',
      },
      { reason: 'WARNING_REASON_GENERIC', description: 'x', field: 'events[0].cart_data.items[0]' },
      { reason: 'WARNING_REASON_GENERIC', field: 'destinations[0]' },
      { reason: 'not a reason <script>', field: 'events[1].a b' },
      { description: 'no reason, no field' },
      'not an object',
      null,
    ],
  };

  it('reads reason, the field inside its event and the event index; never the description', () => {
    expect(fieldWarningsOf(answer)).toEqual([
      { reason: 'WARNING_REASON_INVALID_CLIENT_ID', field: 'client_id', eventIndex: 2 },
      { reason: 'WARNING_REASON_GENERIC', field: 'cart_data.items[0]', eventIndex: 0 },
      { reason: 'WARNING_REASON_GENERIC', field: 'destinations[0]' },
      { reason: 'WARNING_REASON_UNSPECIFIED', eventIndex: 1 },
      { reason: 'WARNING_REASON_UNSPECIFIED' },
    ]);
    expect(JSON.stringify(fieldWarningsOf(answer))).not.toContain('555.123');
    expect(fieldWarningsOf({ requestId: 'r' })).toEqual([]);
    expect(fieldWarningsOf({ fieldWarnings: 'nope' })).toEqual([]);
    expect(fieldWarningsOf(undefined)).toEqual([]);
    expect(Object.keys(DATA_MANAGER_WARNING_REASONS)).toHaveLength(15);
    expect(warningReasonGroup('WARNING_REASON_INVALID_CLIENT_ID')).toBe('client_id');
    expect(warningReasonGroup('WARNING_REASON_INVALID_REGION_CODE')).toBe('location');
    expect(warningReasonGroup('WARNING_REASON_ADDED_LATER')).toBe('other');
    expect(warningReasonGroup('toString')).toBe('other');
  });

  it('events:ingest returns them with the request id', async () => {
    const body = ingestRequest([ingestEvent(conversion(), undefined, target)], target);
    expect(await ingestEvents('tok', body, async () => respond(200, answer))).toEqual({
      requestId: 'r-9',
      fieldWarnings: fieldWarningsOf(answer),
    });
  });

  it('sendEvents gives each accepted event the warnings naming it, after a split too', async () => {
    const events = Array.from({ length: 4 }, (_, i) =>
      ingestEvent(conversion({ click_id: gclid(300 + i) }), undefined, target),
    );
    const result = await sendEvents(events, async (batch) => {
      const first = batch.findIndex((e) => e.adIdentifiers?.gclid === gclid(301));
      if (first >= 0 && batch.length === 4)
        throw new DataManagerRejection(
          'rejected',
          { reasons: [], violations: [{ eventIndex: first, reason: 'INVALID_FORMAT' }] },
          400,
        );
      // Sent again without event 1: event 3 is now the request's event 2.
      const warned = batch.findIndex((e) => e.adIdentifiers?.gclid === gclid(303));
      return {
        requestId: 'r-2',
        fieldWarnings: [
          { reason: 'WARNING_REASON_GENERIC', field: 'conversion_value', eventIndex: warned },
          { reason: 'WARNING_REASON_GENERIC', field: 'destinations[0]' },
          { reason: 'WARNING_REASON_GENERIC', eventIndex: 99 },
        ],
      };
    });
    expect(result.outcomes).toEqual([
      { kind: 'uploaded' },
      expect.objectContaining({ kind: 'failed' }),
      { kind: 'uploaded' },
      { kind: 'uploaded', fieldWarnings: [{ reason: 'WARNING_REASON_GENERIC', field: 'conversion_value' }] },
    ]);
    expect(result.requests[0]?.fieldWarnings).toEqual([
      { reason: 'WARNING_REASON_GENERIC', field: 'conversion_value', row: 3 },
      { reason: 'WARNING_REASON_GENERIC', field: 'destinations[0]' },
      { reason: 'WARNING_REASON_GENERIC' },
    ]);
  });
});

describe('quota pacing', () => {
  it('allows perMinute requests in any sliding minute and waits for the next slot', async () => {
    let now = 0;
    const waits: number[] = [];
    const pacer = new QuotaPacer(
      3,
      () => now,
      async (ms) => {
        waits.push(ms);
        now += ms;
      },
    );
    for (let i = 0; i < 3; i++) {
      await pacer.take();
      now += 1000;
    }
    expect(waits).toEqual([]);
    await pacer.take();
    expect(waits).toEqual([57_000]);
    expect(now).toBe(60_000);
    expect(pacer.waitMs()).toBe(1000);
    expect(() => new QuotaPacer(0)).toThrow();
  });

  it("each process takes its share of the project's 300 requests a minute", () => {
    expect(perProcessLimit(2, {})).toBe(150);
    expect(perProcessLimit(1, {})).toBe(300);
    expect(perProcessLimit(0, {})).toBe(300);
    expect(perProcessLimit(4, { GOOGLE_DATA_MANAGER_REQUESTS_PER_MINUTE: '100' })).toBe(25);
    expect(perProcessLimit(1000, {})).toBe(1);
  });
});

describe('transport choice', () => {
  it('GOOGLE_ADS_UPLOAD_API picks data_manager by default or google_ads_api; anything else is refused', () => {
    expect(uploadApi({})).toBe('data_manager');
    expect(uploadApi({ GOOGLE_ADS_UPLOAD_API: ' google_ads_api ' })).toBe('google_ads_api');
    expect(uploadApi({ GOOGLE_ADS_UPLOAD_API: 'data_manager' })).toBe('data_manager');
    expect(() => uploadApi({ GOOGLE_ADS_UPLOAD_API: 'graphql' })).toThrow(
      'GOOGLE_ADS_UPLOAD_API must be one of data_manager, google_ads_api (got "graphql")',
    );
  });

  const integration: StoredGoogleAdsIntegration = {
    customer_id: '1234567890',
    conversion_action_id: '555',
    client_id: 'c',
    time_zone: 'UTC',
    status: 'connected',
    updated_at: '2026-11-24T00:00:00Z',
    sealed_client_secret: 's',
    sealed_refresh_token: 'r',
  };

  function providerWith(transport: Parameters<typeof googleProvider>[1], stored = integration) {
    const scopes: Array<string | undefined> = [];
    const disconnected: Array<[string, string, string | undefined]> = [];
    const provider = googleProvider(
      {
        integrations: {
          get: async () => stored,
          disconnect: async (t, reason, status) => {
            disconnected.push([t, reason, status]);
          },
        },
        credential: async () => ({ clientId: 'c', clientSecret: 's', refreshToken: 'r' }),
        accessToken: async (_c, scope) => {
          scopes.push(scope);
          return 'tok';
        },
        forgetToken: () => {},
      },
      transport,
    );
    return { provider, scopes, disconnected };
  }

  it('each transport asks for its own scope and sends in its own wire format', async () => {
    const bodies: unknown[] = [];
    const dm = providerWith(
      dataManagerTransport({
        ingest: async (_t, body) => {
          bodies.push(body);
          return { requestId: 'r-1' };
        },
        retrieve: async () => ({ requestStatusPerDestination: [{ requestStatus: 'SUCCESS' }] }),
      }),
    );
    expect(dm.provider.transport).toBe('data_manager');
    const connection = await dm.provider.connect('t1');
    if (connection.kind !== 'ready') throw new Error('not ready');
    const rows: UploadRow[] = [{ conversion: conversion() }];
    const sent = await dm.provider.send(connection.session, rows, new Date());
    expect(sent.outcomes).toEqual([{ kind: 'uploaded' }]);
    expect(bodies[0]).toHaveProperty('events');
    expect(dm.scopes).toEqual(['https://www.googleapis.com/auth/datamanager']);
    expect(await dm.provider.requestStatus?.(connection.session, 'r-1')).toMatchObject({
      state: 'succeeded',
    });

    const api = providerWith(
      googleAdsApiTransport(async (call) => {
        bodies.push(call.body);
        return { body: { results: [{ gclid: 'x' }] }, requestId: 'g-1' };
      }),
    );
    expect(api.provider.transport).toBe('google_ads_api');
    expect(api.provider.requestStatus).toBeUndefined();
    const c2 = await api.provider.connect('t1');
    if (c2.kind !== 'ready') throw new Error('not ready');
    await api.provider.send(c2.session, rows, new Date());
    expect(bodies[1]).toHaveProperty('partialFailure', true);
    expect(api.scopes).toEqual(['https://www.googleapis.com/auth/adwords']);
  });

  it('a connection that needs a reconnect is parked; a token without the scope marks it so', async () => {
    const parked = providerWith(
      googleAdsApiTransport(async () => ({ body: {} })),
      {
        ...integration,
        status: 'needs_reconnect',
        status_reason: 'reconnect please',
      },
    );
    expect(await parked.provider.connect('t1')).toEqual({ kind: 'parked', reason: 'reconnect please' });
    const missing = googleProvider(
      {
        integrations: { get: async () => undefined, disconnect: async () => {} },
        credential: async () => ({ clientId: 'c', clientSecret: 's', refreshToken: 'r' }),
        accessToken: async () => 't',
        forgetToken: () => {},
      },
      googleAdsApiTransport(async () => ({ body: {} })),
    );
    expect(await missing.connect('t1')).toEqual({ kind: 'missing', reason: 'Google Ads is not connected' });
    const { provider, disconnected } = providerWith(googleAdsApiTransport(async () => ({ body: {} })));
    await provider.onFailure('t1', undefined, new GoogleAdsFailure('needs_reconnect', 'no scope'));
    await provider.onFailure('t1', undefined, new GoogleAdsFailure('disconnected', 'revoked'));
    expect(disconnected).toEqual([
      ['t1', 'no scope', 'needs_reconnect'],
      ['t1', 'revoked', undefined],
    ]);
  });

  it('the token cache refuses a token granted without the required scope', async () => {
    const cache = new TokenCache(async () =>
      respond(200, { access_token: 'a', expires_in: 3600, scope: 'https://www.googleapis.com/auth/adwords' }),
    );
    const credential = { clientId: 'c', clientSecret: 's', refreshToken: 'r' };
    expect(await cache.accessToken(credential, 'https://www.googleapis.com/auth/adwords')).toBe('a');
    await expect(
      cache.accessToken(credential, 'https://www.googleapis.com/auth/datamanager'),
    ).rejects.toMatchObject({
      kind: 'needs_reconnect',
      message: expect.stringContaining('datamanager'),
    });
    expect(cache.refreshes).toBe(1);
  });
});
