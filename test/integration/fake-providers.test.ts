/**
 * The local fakes of Google and Meta refuse what the real APIs refuse, in their wire format: the
 * tests of the uploaders are only as strict as these fakes, so every refusal is pinned here. A
 * fake that accepted a malformed request would let a broken request builder pass its tests.
 */
import {
  ADWORDS_SCOPE,
  DATA_MANAGER_SCOPE,
  type FakeGoogleAds,
  startFakeGoogleAds,
} from '../../local/fake-google-ads';
import { type FakeMeta, startFakeMeta } from '../../local/fake-meta';
import { type FakeStripe, startFakeStripe } from '../../local/fake-stripe';
import { sha } from '../support/hashing';

type Json = Record<string, unknown>;

async function call(
  url: string,
  init: { method?: string; token?: string; body?: unknown; contentType?: string } = {},
): Promise<{ status: number; body: Json }> {
  const res = await fetch(url, {
    method: init.method ?? 'POST',
    headers: {
      ...(init.token ? { Authorization: `Bearer ${init.token}` } : {}),
      ...(init.body !== undefined ? { 'Content-Type': init.contentType ?? 'application/json' } : {}),
    },
    ...(init.body !== undefined
      ? { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }
      : {}),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

describe('fake Google (Data Manager, Google Ads API, OAuth)', () => {
  let google: FakeGoogleAds;
  let token: string;
  let adwordsOnly: string;

  async function accessToken(refreshToken: string): Promise<string> {
    const res = await fetch(google.tokenUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: 'client',
        client_secret: 'secret',
        refresh_token: refreshToken,
      }).toString(),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { access_token: string }).access_token;
  }

  beforeAll(async () => {
    google = await startFakeGoogleAds();
    token = await accessToken('1//refresh-both');
    google.commands.adwordsOnlyRefreshTokens.add('1//refresh-adwords');
    adwordsOnly = await accessToken('1//refresh-adwords');
  });
  afterAll(() => google.close());
  beforeEach(() => {
    // Tokens issued stay valid across reset; only records and commands are cleared.
    google.reset();
  });

  describe('Data Manager events:ingest', () => {
    const ingestUrl = () => `${google.baseUrl}/v1/events:ingest`;
    const destination = {
      operatingAccount: { accountType: 'GOOGLE_ADS', accountId: '1234567890' },
      productDestinationId: '987654',
    };
    const event = (extra: Json = {}): Json => ({
      transactionId: 'order-1',
      eventTimestamp: '2026-03-01T10:00:00Z',
      eventSource: 'WEB',
      adIdentifiers: { gclid: 'gclid-1' },
      ...extra,
    });
    const request = (extra: Json = {}): Json => ({
      destinations: [destination],
      events: [event()],
      ...extra,
    });

    async function violations(body: unknown): Promise<Array<{ field: string; reason: string }>> {
      const { status, body: answer } = await call(ingestUrl(), { token, body });
      expect(status).toBe(400);
      const error = answer.error as { status: string; details: Array<Json> };
      expect(error.status).toBe('INVALID_ARGUMENT');
      const bad = error.details.find((d) => d['@type'] === 'type.googleapis.com/google.rpc.BadRequest');
      return ((bad?.fieldViolations ?? []) as Array<{ field: string; reason: string }>).map(
        ({ field, reason }) => ({ field, reason }),
      );
    }

    it('accepts a well-formed request and answers a request id it can report on', async () => {
      const { status, body } = await call(ingestUrl(), {
        token,
        body: request({
          encoding: 'HEX',
          events: [
            event({
              userData: { userIdentifiers: [{ emailAddress: sha('a@example.com') }] },
              consent: { adUserData: 'CONSENT_GRANTED', adPersonalization: 'CONSENT_DENIED' },
              conversionValue: 12.5,
              currency: 'EUR',
              lastUpdatedTimestamp: '2026-03-01T10:00:01.5+01:00',
            }),
          ],
        }),
      });
      expect(status).toBe(200);
      expect(body.requestId).toMatch(/^r-/);
      const validated = await call(ingestUrl(), { token, body: request({ validateOnly: true }) });
      expect(validated.body.requestId).toMatch(/^v-/);
      // A validate-only request is not processed: there is no status to read for it.
      const read = await call(
        `${google.baseUrl}/v1/requestStatus:retrieve?requestId=${validated.body.requestId}`,
        { method: 'GET', token },
      );
      expect(read.status).toBe(404);
      expect((read.body.error as Json).status).toBe('NOT_FOUND');
    });

    // https://developers.google.com/data-manager/api/devguides/events/google-ads/offline
    it('accepts an enhanced conversion for leads: hashed userData and no adIdentifiers', async () => {
      const lead = event({
        adIdentifiers: undefined,
        userData: {
          userIdentifiers: [{ emailAddress: sha('a@example.com') }, { phoneNumber: sha('+4915112345678') }],
        },
        consent: { adUserData: 'CONSENT_GRANTED' },
      });
      const { status, body } = await call(ingestUrl(), {
        token,
        body: request({ encoding: 'HEX', events: [lead] }),
      });
      expect(status).toBe(200);
      expect(body.requestId).toMatch(/^r-/);
    });

    it.each([
      ['not_enabled', 'DESTINATION_ACCOUNT_NOT_ENABLED_ENHANCED_CONVERSIONS_FOR_LEADS'],
      ['terms_not_signed', 'DESTINATION_ACCOUNT_ENHANCED_CONVERSIONS_TERMS_NOT_SIGNED'],
      ['data_policy', 'DESTINATION_ACCOUNT_DATA_POLICY_PROHIBITS_ENHANCED_CONVERSIONS'],
    ] as const)(
      'an account refusing enhanced conversions for leads (%s) fails the request whole with %s',
      async (refusal, reason) => {
        google.commands.userDataRefusals.set('1234567890', refusal);
        const lead = event({
          transactionId: 'order-2',
          adIdentifiers: undefined,
          userData: { userIdentifiers: [{ emailAddress: sha('a@example.com') }] },
        });
        expect(await violations(request({ encoding: 'HEX', events: [event(), lead] }))).toEqual([
          { field: 'events.events[1]', reason },
        ]);
        const answer = google.ingests.at(-1);
        expect(answer?.status).toBe(400);
        // Click conversions alone still go through.
        const clicks = await call(ingestUrl(), { token, body: request() });
        expect(clicks.status).toBe(200);
      },
    );

    it.each<[string, unknown, Array<{ field: string; reason: string }>]>([
      ['a body that is no object', [1, 2], [{ field: '', reason: 'INVALID_ARGUMENT' }]],
      [
        'an unknown top-level field and no events',
        { destinations: [destination], events: [], partialFailure: true },
        [
          { field: 'partialFailure', reason: 'INVALID_ARGUMENT' },
          { field: 'events', reason: 'REQUIRED_FIELD_MISSING' },
        ],
      ],
      [
        'an unknown encoding',
        request({ encoding: 'BASE32' }),
        [{ field: 'encoding', reason: 'INVALID_ENUM_VALUE' }],
      ],
      [
        'no destination',
        request({ destinations: [] }),
        [{ field: 'destinations', reason: 'REQUIRED_FIELD_MISSING' }],
      ],
      [
        'a destination with an unknown field, a bad account and a non-numeric conversion action',
        request({
          destinations: [
            {
              reference: 'r',
              customerId: '1',
              operatingAccount: { accountType: 'ADWORDS', accountId: '1' },
              loginAccount: { accountType: 'GOOGLE_ADS', accountId: 'abc' },
              productDestinationId: 'customers/1/conversionActions/2',
            },
          ],
        }),
        [
          { field: 'destinations[0].customerId', reason: 'INVALID_ARGUMENT' },
          { field: 'destinations[0].operatingAccount', reason: 'INVALID_DESTINATION' },
          { field: 'destinations[0].loginAccount', reason: 'INVALID_DESTINATION' },
          { field: 'destinations[0].product_destination_id', reason: 'INVALID_CONVERSION_ACTION_ID' },
        ],
      ],
      [
        'more than 2,000 events',
        request({ events: Array.from({ length: 2001 }, (_, i) => event({ transactionId: `o-${i}` })) }),
        [{ field: 'events', reason: 'TOO_MANY_EVENTS' }],
      ],
      [
        'an event that is no object',
        request({ events: ['order-1'] }),
        [{ field: 'events.events[0]', reason: 'INVALID_ARGUMENT' }],
      ],
      [
        'an event with every field wrong',
        request({
          events: [
            {
              orderId: 'o',
              eventTimestamp: '2026-03-01 10:00:00+00:00',
              lastUpdatedTimestamp: 'yesterday',
              eventSource: 'EMAIL',
              transactionId: '',
              conversionValue: -1,
              currency: 'eur',
              adIdentifiers: { gclid: 'g', wbraid: 'w', clickId: 'c' },
              consent: { adUserData: 'GRANTED', adStorage: 'CONSENT_GRANTED' },
            },
          ],
        }),
        [
          { field: 'events.events[0].orderId', reason: 'INVALID_ARGUMENT' },
          { field: 'events.events[0].event_timestamp', reason: 'INVALID_FORMAT' },
          { field: 'events.events[0].last_updated_timestamp', reason: 'INVALID_FORMAT' },
          { field: 'events.events[0].event_source', reason: 'REQUIRED_FIELD_MISSING' },
          { field: 'events.events[0].transaction_id', reason: 'REQUIRED_FIELD_MISSING' },
          { field: 'events.events[0].conversion_value', reason: 'INVALID_NUMBER_FORMAT' },
          { field: 'events.events[0].currency', reason: 'INVALID_CURRENCY_CODE' },
          { field: 'events.events[0].ad_identifiers.clickId', reason: 'INVALID_ARGUMENT' },
          { field: 'events.events[0].ad_identifiers', reason: 'INVALID_AD_IDENTIFIERS' },
          { field: 'events.events[0].consent.adUserData', reason: 'INVALID_ENUM_VALUE' },
          { field: 'events.events[0].consent.adStorage', reason: 'INVALID_ENUM_VALUE' },
        ],
      ],
      [
        'an event without any click id or user data',
        request({ events: [event({ adIdentifiers: undefined })] }),
        [{ field: 'events.events[0]', reason: 'NO_IDENTIFIERS_PROVIDED' }],
      ],
      [
        'an ad identifiers object without a click id',
        request({ events: [event({ adIdentifiers: {} })] }),
        [{ field: 'events.events[0].ad_identifiers', reason: 'INVALID_AD_IDENTIFIERS' }],
      ],
      [
        'user data without identifiers, and no encoding for them',
        request({ events: [event({ userData: { userIdentifiers: [] } })] }),
        [
          { field: 'events.events[0].user_data', reason: 'TOO_MANY_USER_IDENTIFIERS' },
          { field: 'encoding', reason: 'REQUIRED_FIELD_MISSING' },
        ],
      ],
      [
        'identifiers of an unknown kind or not hashed',
        request({
          encoding: 'HEX',
          events: [
            event({
              userData: {
                userIdentifiers: [{ hashedEmail: sha('a@example.com') }, { phoneNumber: '+4915112345678' }],
              },
            }),
          ],
        }),
        [
          { field: 'events.events[0].user_data.user_identifiers[0]', reason: 'INVALID_ARGUMENT' },
          { field: 'events.events[0].user_data.user_identifiers[1]', reason: 'INVALID_HEX_ENCODING' },
        ],
      ],
    ])('rejects %s, naming each violation', async (_, body, expected) => {
      expect(await violations(body)).toEqual(expected);
      expect(google.ingests.at(-1)?.status).toBe(400);
    });

    it('refuses no token, a token it did not issue, a token without the Data Manager scope, and a non-JSON body', async () => {
      for (const bearer of [undefined, 'ya29.forged']) {
        const { status, body } = await call(ingestUrl(), { token: bearer, body: request() });
        expect(status).toBe(401);
        expect((body.error as Json).status).toBe('UNAUTHENTICATED');
      }
      const scoped = await call(ingestUrl(), { token: adwordsOnly, body: request() });
      expect(scoped.status).toBe(403);
      expect((scoped.body.error as Json).status).toBe('PERMISSION_DENIED');
      const text = await call(ingestUrl(), {
        token,
        body: JSON.stringify(request()),
        contentType: 'text/plain',
      });
      expect(text.status).toBe(400);
      expect((text.body.error as Json).message).toBe('Content-Type must be application/json');
      expect(google.ingests.map((i) => i.status)).toEqual([401, 401, 403, 400]);
    });

    it('names the refused event for a bad click id, and answers a description by reason', async () => {
      google.commands.badEvents.set('gclid-bad', 'INVALID_FORMAT');
      google.commands.badEvents.set('gclid-old', 'EXPIRED_EVENT');
      const answer = await violations(
        request({
          events: [
            event(),
            event({ adIdentifiers: { gclid: 'gclid-bad' } }),
            event({ adIdentifiers: { gbraid: 'gclid-old' } }),
          ],
        }),
      );
      expect(answer).toEqual([
        { field: 'events.events[1].ad_identifiers.gclid', reason: 'INVALID_FORMAT' },
        { field: 'events.events[2].ad_identifiers.gclid', reason: 'EXPIRED_EVENT' },
      ]);
    });

    it('reports PROCESSING, then SUCCESS, PARTIAL_SUCCESS or FAILED with error counts by reason', async () => {
      const statusOf = async (requestId: string) => {
        const { status, body } = await call(
          `${google.baseUrl}/v1/requestStatus:retrieve?requestId=${requestId}`,
          { method: 'GET', token },
        );
        expect(status).toBe(200);
        return (body.requestStatusPerDestination as Json[])[0] as Json;
      };
      google.commands.processingErrors.set('gclid-expired', 'EXPIRED_EVENT');
      google.commands.processingReads = 1;
      const partial = await call(ingestUrl(), {
        token,
        body: request({ events: [event(), event({ adIdentifiers: { wbraid: 'gclid-expired' } })] }),
      });
      const id = partial.body.requestId as string;
      expect(await statusOf(id)).toEqual({
        requestStatus: 'PROCESSING',
        eventsIngestionStatus: { recordCount: '2' },
      });
      expect(await statusOf(id)).toEqual({
        requestStatus: 'PARTIAL_SUCCESS',
        eventsIngestionStatus: { recordCount: '2' },
        errorInfo: { errorCounts: [{ recordCount: '1', reason: 'EXPIRED_EVENT' }] },
      });
      google.commands.processingReads = 0;
      const failed = await call(ingestUrl(), {
        token,
        body: request({ events: [event({ adIdentifiers: { gclid: 'gclid-expired' } })] }),
      });
      expect((await statusOf(failed.body.requestId as string)).requestStatus).toBe('FAILED');
      const missing = await call(`${google.baseUrl}/v1/requestStatus:retrieve`, { method: 'GET', token });
      expect(missing.status).toBe(404);
      for (const [bearer, status] of [
        [undefined, 401],
        [adwordsOnly, 403],
      ] as const) {
        const read = await call(`${google.baseUrl}/v1/requestStatus:retrieve?requestId=${id}`, {
          method: 'GET',
          token: bearer,
        });
        expect(read.status).toBe(status);
      }
      expect(google.statusReads.map((r) => r.status)).toEqual([200, 200, 200, 404, 401, 403]);
    });

    it('answers 429 with a retry delay and 503 before looking at the request, slowly when told', async () => {
      google.commands.rateLimit = { times: 1, retryDelay: '7s' };
      google.commands.serverErrors = 1;
      google.commands.delayMs = 5;
      const limited = await call(ingestUrl(), { token, body: request() });
      expect(limited.status).toBe(429);
      const details = (limited.body.error as { details: Json[] }).details;
      expect(details).toContainEqual({
        '@type': 'type.googleapis.com/google.rpc.RetryInfo',
        retryDelay: '7s',
      });
      const down = await call(ingestUrl(), { token, body: request() });
      expect(down.status).toBe(503);
      expect((down.body.error as Json).status).toBe('UNAVAILABLE');
      expect((await call(ingestUrl(), { token, body: request() })).status).toBe(200);
    });
  });

  describe('Google Ads API uploadClickConversions', () => {
    const customer = '1234567890';
    const uploadUrl = () => `${google.baseUrl}/v25/customers/${customer}:uploadClickConversions`;
    const conversion = (extra: Json = {}): Json => ({
      gclid: 'gclid-1',
      conversionAction: `customers/${customer}/conversionActions/42`,
      conversionDateTime: '2026-03-01 10:00:00+00:00',
      ...extra,
    });
    const request = (extra: Json = {}): Json => ({
      conversions: [conversion()],
      partialFailure: true,
      ...extra,
    });

    async function refusal(body: unknown): Promise<string> {
      const { status, body: answer } = await call(uploadUrl(), { token, body });
      expect(status).toBe(400);
      const error = answer.error as { status: string; message: string; details: Array<{ errors: Json[] }> };
      expect(error.status).toBe('INVALID_ARGUMENT');
      expect(error.details[0]?.errors[0]?.errorCode).toEqual({ requestError: 'INVALID_INPUT' });
      return error.message;
    }

    it.each<[string, unknown, string]>([
      ['a body that is no object', 'gclid=1', 'body is not an object'],
      [
        'an unknown field',
        request({ customerId: customer }),
        'Unknown name "customerId": Cannot find field.',
      ],
      [
        'a request without partial failure',
        request({ partialFailure: false }),
        'partialFailure must be true for click conversion uploads',
      ],
      ['no conversions', request({ conversions: [] }), 'conversions is required'],
      [
        'more than 2,000 conversions',
        request({ conversions: Array.from({ length: 2001 }, () => conversion()) }),
        'Too many conversions in the request',
      ],
      ['a conversion that is no object', request({ conversions: [null] }), 'conversions[0] is not an object'],
      [
        'a snake_case field',
        request({ conversions: [conversion({ conversion_value: 1 })] }),
        `Unknown name "conversion_value" at 'conversions[0]': Cannot find field.`,
      ],
      [
        'two click ids',
        request({ conversions: [conversion({ wbraid: 'w' })] }),
        'conversions[0] needs exactly one of gclid, gbraid, wbraid, or userIdentifiers',
      ],
      [
        'no click id and no user identifiers',
        request({ conversions: [conversion({ gclid: undefined })] }),
        'conversions[0] needs exactly one of gclid, gbraid, wbraid, or userIdentifiers',
      ],
      [
        'no click id and an empty userIdentifiers',
        request({ conversions: [conversion({ gclid: undefined, userIdentifiers: [] })] }),
        'conversions[0].userIdentifiers must not be empty without a click id',
      ],
      [
        "another customer's conversion action",
        request({ conversions: [conversion({ conversionAction: 'customers/999/conversionActions/42' })] }),
        `conversions[0].conversionAction is not a conversion action of customer ${customer}`,
      ],
      [
        'an ISO 8601 date-time',
        request({ conversions: [conversion({ conversionDateTime: '2026-03-01T10:00:00Z' })] }),
        'conversions[0].conversionDateTime must be yyyy-mm-dd hh:mm:ss+|-hh:mm',
      ],
      [
        'a value given as text',
        request({ conversions: [conversion({ conversionValue: '12.50' })] }),
        'conversions[0].conversionValue must be a number',
      ],
      [
        'a lower-case currency',
        request({ conversions: [conversion({ currencyCode: 'eur' })] }),
        'conversions[0].currencyCode must be an ISO 4217 code',
      ],
      [
        'an unknown consent field',
        request({ conversions: [conversion({ consent: { adStorage: 'GRANTED' } })] }),
        'conversions[0].consent has an unknown field',
      ],
      [
        'a Data Manager consent value',
        request({ conversions: [conversion({ consent: { adUserData: 'CONSENT_GRANTED' } })] }),
        'conversions[0].consent.adUserData must be GRANTED or DENIED',
      ],
      [
        'identifiers that are no list',
        request({ conversions: [conversion({ userIdentifiers: { hashedEmail: sha('a') } })] }),
        'conversions[0].userIdentifiers must be a list',
      ],
      [
        'an identifier of an unknown kind',
        request({ conversions: [conversion({ userIdentifiers: [{ emailAddress: sha('a') }] })] }),
        'conversions[0].userIdentifiers entries hold one of hashedEmail, hashedPhoneNumber',
      ],
      [
        'an identifier that is not hashed',
        request({ conversions: [conversion({ userIdentifiers: [{ hashedEmail: 'a@example.com' }] })] }),
        'conversions[0].userIdentifiers must be SHA-256 hex',
      ],
    ])('rejects %s with INVALID_INPUT', async (_, body, message) => {
      expect(await refusal(body)).toBe(`Invalid JSON payload received. ${message}`);
    });

    it('accepts a conversion with consent, value and hashed identifiers, echoing its click id', async () => {
      const { status, body } = await call(uploadUrl(), {
        token,
        body: request({
          conversions: [
            conversion({
              gclid: undefined,
              gbraid: 'gbraid-1',
              conversionValue: 3,
              currencyCode: 'EUR',
              consent: { adUserData: 'GRANTED', adPersonalization: 'DENIED' },
              userIdentifiers: [{ hashedEmail: sha('a@example.com') }, { hashedPhoneNumber: sha('+49151') }],
            }),
          ],
        }),
      });
      expect(status).toBe(200);
      expect(body).toEqual({
        results: [
          {
            gbraid: 'gbraid-1',
            conversionAction: `customers/${customer}/conversionActions/42`,
            conversionDateTime: '2026-03-01 10:00:00+00:00',
          },
        ],
      });
    });

    it('an enhanced conversion for leads (userIdentifiers only) is accepted, or refused per row for the account', async () => {
      const lead = conversion({
        gclid: undefined,
        orderId: 'o-9',
        userIdentifiers: [{ hashedEmail: sha('a@example.com') }],
      });
      const ok = await call(uploadUrl(), { token, body: request({ conversions: [lead] }) });
      expect(ok.body).toEqual({
        results: [
          {
            conversionAction: `customers/${customer}/conversionActions/42`,
            conversionDateTime: '2026-03-01 10:00:00+00:00',
          },
        ],
      });
      google.commands.userDataRefusals.set(customer, 'not_enabled');
      const refused = await call(uploadUrl(), {
        token,
        body: request({ conversions: [conversion(), lead] }),
      });
      expect(refused.status).toBe(200);
      const failure = refused.body.partialFailureError as { details: Array<{ errors: Json[] }> };
      expect(failure.details[0]?.errors).toEqual([
        {
          errorCode: { conversionUploadError: 'CUSTOMER_NOT_ENABLED_ENHANCED_CONVERSIONS_FOR_LEADS' },
          message: 'The destination account is not enabled for enhanced conversions for leads.',
          location: { fieldPathElements: [{ fieldName: 'conversions', index: 1 }] },
        },
      ]);
      expect((refused.body.results as Json[])[1]).toEqual({});
    });

    it('locates several row errors by field path, with a summary message and an unknown code as its own message', async () => {
      google.commands.rowErrors.set('gclid-old', 'EXPIRED_EVENT');
      google.commands.rowErrors.set('gclid-odd', 'SOME_NEW_ERROR');
      const { body } = await call(uploadUrl(), {
        token,
        body: request({
          conversions: [conversion(), conversion({ gclid: 'gclid-old' }), conversion({ gclid: 'gclid-odd' })],
        }),
      });
      const failure = body.partialFailureError as { message: string; details: Array<{ errors: Json[] }> };
      expect(failure.message).toBe('Multiple errors in ‘details’. First error: ...');
      expect((body.results as Json[]).slice(1)).toEqual([{}, {}]);
      expect(failure.details[0]?.errors.map((e) => [e.message, e.location])).toEqual([
        [
          'The click that the conversion is being attributed to happened before the click-through window.',
          { fieldPathElements: [{ fieldName: 'conversions', index: 1 }, { fieldName: 'gclid' }] },
        ],
        [
          'SOME_NEW_ERROR',
          { fieldPathElements: [{ fieldName: 'conversions', index: 2 }, { fieldName: 'gclid' }] },
        ],
      ]);
    });

    it('refuses a non-JSON body, and a developer token not allowlisted for the feature', async () => {
      const text = await call(uploadUrl(), { token, body: 'conversions=1', contentType: 'text/plain' });
      expect(text.status).toBe(400);
      expect((text.body.error as Json).message).toBe('Content-Type must be application/json');
      google.commands.notAllowlisted = true;
      const denied = await call(uploadUrl(), { token, body: request() });
      expect(denied.status).toBe(403);
      const errors = (denied.body.error as { details: Array<{ errors: Json[] }> }).details[0]?.errors;
      expect(errors?.[0]?.errorCode).toEqual({
        notAllowlistedError: 'CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE',
      });
    });
  });

  describe('Google Ads API uploadConversionAdjustments', () => {
    const customer = '1234567890';
    const adjustUrl = () => `${google.baseUrl}/v25/customers/${customer}:uploadConversionAdjustments`;
    const adjustment = (extra: Json = {}): Json => ({
      conversionAction: `customers/${customer}/conversionActions/42`,
      adjustmentType: 'RETRACTION',
      adjustmentDateTime: '2026-03-02 10:00:00+00:00',
      orderId: 'order-1',
      ...extra,
    });
    const request = (extra: Json = {}): Json => ({
      conversionAdjustments: [adjustment()],
      partialFailure: true,
      ...extra,
    });

    it.each<[string, unknown, string]>([
      ['a body that is no object', 'null', 'body is not an object'],
      ['an unknown field', request({ conversions: [] }), 'Unknown name "conversions": Cannot find field.'],
      [
        'a request without partial failure',
        request({ partialFailure: undefined }),
        'partialFailure must be true',
      ],
      [
        'no adjustments',
        request({ conversionAdjustments: [] }),
        'conversionAdjustments must hold 1 to 2,000 adjustments',
      ],
      [
        'an unknown adjustment field',
        request({ conversionAdjustments: [adjustment({ gclid: 'g' })] }),
        `Unknown name "gclid" at 'conversionAdjustments[0]': Cannot find field.`,
      ],
      [
        "another customer's conversion action",
        request({
          conversionAdjustments: [adjustment({ conversionAction: 'customers/1/conversionActions/42' })],
        }),
        `conversionAdjustments[0].conversionAction is not a conversion action of customer ${customer}`,
      ],
      [
        'an unknown adjustment type',
        request({ conversionAdjustments: [adjustment({ adjustmentType: 'ENHANCEMENT' })] }),
        'conversionAdjustments[0].adjustmentType is not valid',
      ],
      [
        'an ISO 8601 date-time',
        request({ conversionAdjustments: [adjustment({ adjustmentDateTime: '2026-03-02T10:00:00Z' })] }),
        'conversionAdjustments[0].adjustmentDateTime must be yyyy-mm-dd hh:mm:ss+|-hh:mm',
      ],
      [
        'no order id',
        request({ conversionAdjustments: [adjustment({ orderId: '' })] }),
        'conversionAdjustments[0] needs an orderId',
      ],
      [
        'a restatement without a value',
        request({ conversionAdjustments: [adjustment({ adjustmentType: 'RESTATEMENT' })] }),
        'conversionAdjustments[0].restatementValue.adjustedValue is required',
      ],
      [
        'a retraction with a value',
        request({ conversionAdjustments: [adjustment({ restatementValue: { adjustedValue: 1 } })] }),
        'conversionAdjustments[0]: a retraction takes no restatementValue',
      ],
    ])('rejects %s with INVALID_INPUT', async (_, body, message) => {
      const { status, body: answer } = await call(adjustUrl(), { token, body });
      expect(status).toBe(400);
      expect((answer.error as Json).message).toBe(`Invalid JSON payload received. ${message}`);
      expect(google.adjustments.at(-1)?.status).toBe(400);
    });

    it('applies a retraction once, locates row errors, and refuses a token without the AdWords scope', async () => {
      const first = await call(adjustUrl(), {
        token,
        body: request({
          conversionAdjustments: [
            adjustment(),
            adjustment({
              orderId: 'order-2',
              adjustmentType: 'RESTATEMENT',
              restatementValue: { adjustedValue: 5 },
            }),
          ],
        }),
      });
      expect(first.status).toBe(200);
      expect((first.body.results as Json[]).map((r) => r.orderId)).toEqual(['order-1', 'order-2']);
      google.commands.adjustmentErrors.set('order-3', 'TOO_RECENT_CONVERSION_ACTION');
      const again = await call(adjustUrl(), {
        token,
        body: request({ conversionAdjustments: [adjustment(), adjustment({ orderId: 'order-3' })] }),
      });
      expect(again.body.results).toEqual([{}, {}]);
      const errors = (again.body.partialFailureError as { details: Array<{ errors: Json[] }> }).details[0]
        ?.errors;
      expect(errors?.map((e) => [e.errorCode, e.location])).toEqual([
        [
          { conversionAdjustmentUploadError: 'CONVERSION_ALREADY_RETRACTED' },
          { fieldPathElements: [{ fieldName: 'conversion_adjustments', index: 0 }] },
        ],
        [
          { conversionAdjustmentUploadError: 'TOO_RECENT_CONVERSION_ACTION' },
          { fieldPathElements: [{ fieldName: 'conversion_adjustments', index: 1 }] },
        ],
      ]);
      const consent = await fetch(
        `${google.baseUrl}/auth?${new URLSearchParams({
          redirect_uri: 'http://127.0.0.1:9/callback',
          state: 's',
          scope: DATA_MANAGER_SCOPE,
        })}`,
        { redirect: 'manual' },
      );
      const code = new URL(consent.headers.get('location') as string).searchParams.get('code') as string;
      const exchanged = await fetch(google.tokenUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          client_id: 'c',
          client_secret: 's',
          redirect_uri: 'http://127.0.0.1:9/callback',
        }).toString(),
      });
      const dataManagerOnly = ((await exchanged.json()) as { access_token: string }).access_token;
      const refused = await call(adjustUrl(), { token: dataManagerOnly, body: request() });
      expect(refused.status).toBe(401);
      expect((refused.body.error as Json).status).toBe('UNAUTHENTICATED');
      google.commands.serverErrors = 1;
      expect((await call(adjustUrl(), { token, body: request() })).status).toBe(503);
    });
  });

  describe('OAuth', () => {
    async function form(body: Record<string, string>, contentType = 'application/x-www-form-urlencoded') {
      const res = await fetch(google.tokenUrl, {
        method: 'POST',
        headers: { 'Content-Type': contentType },
        body: new URLSearchParams(body).toString(),
      });
      return { status: res.status, body: (await res.json()) as Json };
    }

    it('refuses a JSON body, missing parameters, a malformed code and an unknown grant type', async () => {
      const full = { client_id: 'c', client_secret: 's', redirect_uri: 'http://127.0.0.1/cb' };
      expect(await form({ grant_type: 'refresh_token', refresh_token: 'r' }, 'application/json')).toEqual({
        status: 400,
        body: { error: 'invalid_request', error_description: 'form body required' },
      });
      expect((await form({ grant_type: 'authorization_code', ...full })).body.error).toBe('invalid_request');
      expect(await form({ grant_type: 'authorization_code', code: 'forged', ...full })).toEqual({
        status: 400,
        body: { error: 'invalid_grant', error_description: 'Malformed auth code.' },
      });
      expect((await form({ grant_type: 'password', client_id: 'c', client_secret: 's' })).body.error).toBe(
        'invalid_request',
      );
      expect(google.tokenRequests.map((r) => r.status)).toEqual([400, 400, 400, 400]);
    });

    it('a code consented for the AdWords scope only gives tokens Data Manager refuses', async () => {
      const consent = await fetch(
        `${google.baseUrl}/auth?${new URLSearchParams({
          redirect_uri: 'http://127.0.0.1:9/callback',
          state: 'state-1',
          scope: ADWORDS_SCOPE,
        })}`,
        { redirect: 'manual' },
      );
      expect(consent.status).toBe(302);
      const back = new URL(consent.headers.get('location') as string);
      expect(back.searchParams.get('state')).toBe('state-1');
      const exchanged = await form({
        grant_type: 'authorization_code',
        code: back.searchParams.get('code') as string,
        client_id: 'c',
        client_secret: 's',
        redirect_uri: 'http://127.0.0.1:9/callback',
      });
      expect(exchanged.body.scope).toBe(ADWORDS_SCOPE);
      const ingest = await call(`${google.baseUrl}/v1/events:ingest`, {
        token: exchanged.body.access_token as string,
        body: {},
      });
      expect(ingest.status).toBe(403);
      // Its refresh token keeps giving AdWords-only access tokens.
      const refreshed = await form({
        grant_type: 'refresh_token',
        client_id: 'c',
        client_secret: 's',
        refresh_token: exchanged.body.refresh_token as string,
      });
      expect(refreshed.body.scope).toBe(ADWORDS_SCOPE);
      const missingState = await fetch(`${google.baseUrl}/auth?redirect_uri=http://127.0.0.1:9/cb`, {
        redirect: 'manual',
      });
      expect(missingState.status).toBe(400);
    });

    it('answers an unknown route 404 in Google’s error format', async () => {
      const { status, body } = await call(`${google.baseUrl}/v25/customers/1:uploadCallConversions`, {
        token,
        body: {},
      });
      expect(status).toBe(404);
      expect((body.error as Json).status).toBe('NOT_FOUND');
    });
  });
});

describe('fake Meta Conversions API', () => {
  let meta: FakeMeta;
  const now = () => Math.floor(Date.now() / 1000);
  const eventsUrl = () => `${meta.baseUrl}/v23.0/1234567890/events`;
  const event = (extra: Json = {}): Json => ({
    event_name: 'Lead',
    event_time: now() - 60,
    action_source: 'system_generated',
    event_id: 'lead-1',
    user_data: { em: [sha('a@example.com')], fbc: `fb.1.${Date.now()}.IwAR-click` },
    ...extra,
  });

  beforeAll(async () => {
    meta = await startFakeMeta();
  });
  afterAll(() => meta.close());
  beforeEach(() => meta.reset());

  async function refusal(body: unknown, contentType?: string) {
    const { status, body: answer } = await call(eventsUrl(), {
      token: 'EAAB-token',
      body,
      ...(contentType ? { contentType } : {}),
    });
    expect(status).toBe(400);
    const error = answer.error as Json;
    expect(error).toMatchObject({ type: 'OAuthException', code: 100, is_transient: false });
    expect(error.fbtrace_id).toEqual(expect.any(String));
    return `${error.error_user_title}: ${error.error_user_msg}`;
  }

  it('receives well-formed events, with a test event code', async () => {
    const purchase = event({
      event_name: 'Purchase',
      action_source: 'website',
      event_source_url: 'https://shop.example/checkout',
      user_data: {
        ph: sha('+4915112345678'),
        client_user_agent: 'Mozilla/5.0',
        client_ip_address: '203.0.113.9',
      },
      custom_data: { value: 19.99, currency: 'eur' },
      data_processing_options: ['LDU'],
      data_processing_options_country: 1,
      data_processing_options_state: 1000,
    });
    const { status, body } = await call(eventsUrl(), {
      token: 'EAAB-token',
      body: { data: [event(), purchase], test_event_code: 'TEST123' },
    });
    expect(status).toBe(200);
    expect(body.events_received).toBe(2);
    expect(meta.received.map((r) => [r.pixelId, r.testEventCode])).toEqual([
      ['1234567890', 'TEST123'],
      ['1234567890', 'TEST123'],
    ]);
  });

  it.each<[string, unknown, string]>([
    ['an event that is no object', { data: ['Lead'] }, 'Invalid Event: data[0] is not an object'],
    [
      'an unknown event parameter',
      { data: [event({ pixel_id: '1' })] },
      'Invalid Parameter: data[0]: unknown parameter pixel_id',
    ],
    [
      'no event name',
      { data: [event({ event_name: '' })] },
      'Missing Event Name: data[0]: event_name is required',
    ],
    [
      'a time in milliseconds as text',
      { data: [event({ event_time: String(Date.now()) })] },
      'Invalid Event Time: data[0]: event_time must be a Unix timestamp in seconds',
    ],
    [
      'a time in the future',
      { data: [event({ event_time: now() + 7200 })] },
      'Event Timestamp In The Future: data[0]: event_time is in the future',
    ],
    [
      'an unknown action source',
      { data: [event({ action_source: 'server' })] },
      'Invalid Action Source: data[0]: action_source is required and must be a known source',
    ],
    [
      'an empty event id',
      { data: [event({ event_id: '' })] },
      'Invalid Event ID: data[0]: event_id must be a string',
    ],
    [
      'no user data',
      { data: [event({ user_data: {} })] },
      'Missing User Data: data[0]: user_data needs at least one customer information parameter',
    ],
    [
      'a plain email',
      { data: [event({ user_data: { em: 'a@example.com' } })] },
      'Unhashed Customer Information: data[0]: user_data.em must be SHA-256 hashed',
    ],
    [
      'an empty list of hashed emails',
      { data: [event({ user_data: { em: [] } })] },
      'Unhashed Customer Information: data[0]: user_data.em must be SHA-256 hashed',
    ],
    [
      'a user agent that is no string',
      { data: [event({ user_data: { em: sha('a'), client_user_agent: 42 } })] },
      'Invalid Parameter: data[0]: user_data.client_user_agent must be a string',
    ],
    [
      'an unknown user data parameter',
      { data: [event({ user_data: { email: sha('a') } })] },
      'Invalid Parameter: data[0]: unknown user_data parameter email',
    ],
    [
      'a raw click id as fbc',
      { data: [event({ user_data: { fbc: 'IwAR-click' } })] },
      'Invalid fbc: data[0]: fbc must be fb.<subdomainIndex>.<creationTime ms>.<fbclid>',
    ],
    [
      'an IP address that is none',
      { data: [event({ user_data: { em: sha('a'), client_ip_address: 'localhost' } })] },
      'Invalid IP Address: data[0]: client_ip_address is not an IP address',
    ],
    [
      'a website event without its URL',
      { data: [event({ action_source: 'website' })] },
      'Missing Event Source URL: data[0]: a website event needs event_source_url',
    ],
    [
      'a website event without a user agent',
      { data: [event({ action_source: 'website', event_source_url: 'https://shop.example/' })] },
      'Missing User Agent: data[0]: a website event needs client_user_agent',
    ],
    [
      'custom data that is no object',
      { data: [event({ custom_data: [19.99] })] },
      'Invalid Custom Data: data[0]: custom_data must be an object',
    ],
    [
      'an unknown custom data parameter',
      { data: [event({ custom_data: { amount: 1 } })] },
      'Invalid Parameter: data[0]: unknown custom_data parameter amount',
    ],
    [
      'a value given as text',
      { data: [event({ custom_data: { value: '19.99', currency: 'EUR' } })] },
      'Invalid Value: data[0]: custom_data.value must be a number',
    ],
    [
      'a currency that is no code',
      { data: [event({ custom_data: { value: 1, currency: 'euro' } })] },
      'Invalid Currency Code: data[0]: custom_data.currency must be ISO 4217',
    ],
    [
      'a purchase without value and currency',
      { data: [event({ event_name: 'Purchase' })] },
      'Missing Value or Currency: data[0]: a Purchase needs custom_data.value and currency',
    ],
    [
      'a purchase without currency',
      { data: [event({ event_name: 'Purchase', custom_data: { value: 1 } })] },
      'Missing Value or Currency: data[0]: a Purchase needs custom_data.value and currency',
    ],
    [
      'an unknown data processing option',
      { data: [event({ data_processing_options: ['GDPR'] })] },
      'Invalid Data Processing Options: data[0]: data_processing_options holds only "LDU"',
    ],
    [
      'a country code given as text',
      { data: [event({ data_processing_options: ['LDU'], data_processing_options_country: '1' })] },
      'Invalid Data Processing Options: data[0]: data_processing_options_country must be an integer',
    ],
    ['a body that is no object', [event()], 'Invalid Body: The body is not a JSON object'],
    [
      'an unknown body parameter',
      { data: [event()], access_token: 'x' },
      'Invalid Parameter: Unknown parameter access_token',
    ],
    [
      'a test event code that is no string',
      { data: [event()], test_event_code: 1 },
      'Invalid Test Event Code: test_event_code must be a string',
    ],
    ['no events', { data: [] }, 'Missing Data: The parameter data is required'],
    [
      'more than 1,000 events',
      { data: Array.from({ length: 1001 }, (_, i) => event({ event_id: `lead-${i}` })) },
      'Too Many Events: data holds at most 1000 events',
    ],
  ])('refuses %s with code 100, receiving nothing', async (_, body, message) => {
    expect(await refusal(body)).toBe(message);
    expect(meta.received).toEqual([]);
  });

  it('refuses the whole request for one refused event id, and a body that is not JSON', async () => {
    meta.commands.rejectEventIds.add('lead-2');
    expect(await refusal({ data: [event(), event({ event_id: 'lead-2' })] })).toBe(
      'Invalid Event: data[1]: this event was refused',
    );
    expect(await refusal('data=[]', 'application/x-www-form-urlencoded')).toBe(
      'Invalid Content Type: Send the body as application/json',
    );
    expect(meta.received).toEqual([]);
  });

  it('refuses a token in the URL, no token, a deprecated version, and answers throttling and outages', async () => {
    const inUrl = await call(`${eventsUrl()}?access_token=EAAB-token`, { body: { data: [event()] } });
    expect(inUrl.status).toBe(400);
    const none = await call(eventsUrl(), { body: { data: [event()] } });
    expect((none.body.error as Json).code).toBe(2500);
    meta.commands.deprecatedVersions.add('v23.0');
    const old = await call(eventsUrl(), { token: 'EAAB-token', body: { data: [event()] } });
    expect((old.body.error as Json).code).toBe(2635);
    meta.commands.deprecatedVersions.clear();
    meta.commands.throttle = { times: 2, code: 80004 };
    const throttled = await call(eventsUrl(), { token: 'EAAB-token', body: { data: [event()] } });
    expect(throttled.body.error).toMatchObject({
      code: 80004,
      is_transient: true,
      message: '(#80004) There have been too many calls to this ad-account. Wait a bit and try again.',
    });
    meta.commands.throttle.code = 9;
    const unknown = await call(eventsUrl(), { token: 'EAAB-token', body: { data: [event()] } });
    expect((unknown.body.error as Json).message).toBe('(#9) Rate limit reached');
    meta.commands.serverErrors = 1;
    const down = await call(eventsUrl(), { token: 'EAAB-token', body: { data: [event()] } });
    expect(down.status).toBe(500);
    expect(down.body.error).toMatchObject({ code: 2, is_transient: true });
    const other = await call(`${meta.baseUrl}/v23.0/1234567890/customaudiences`, { method: 'GET' });
    expect(other.status).toBe(400);
    expect(other.body.error).toMatchObject({ code: 100, error_subcode: 33, type: 'GraphMethodException' });
    expect(meta.received).toEqual([]);
  });
});

describe('fake Stripe', () => {
  let stripe: FakeStripe;
  const api = (method: string, path: string, form?: Record<string, string>, key?: string) =>
    fetch(`${stripe.baseUrl}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${key ?? stripe.apiKey}`,
        ...(form ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    }).then(async (res) => ({ status: res.status, body: (await res.json()) as Json }));
  const command = (path: string, body?: unknown) =>
    fetch(`${stripe.baseUrl}${path}`, {
      method: 'POST',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }).then((res) => res.status);

  beforeAll(async () => {
    stripe = await startFakeStripe();
    stripe.addSubscription({ id: 'sub_fake_1', customer: 'cus_fake_1', status: 'active' });
  });
  afterAll(() => stripe.close());

  it('opens a billing portal session for a known customer only, in Stripe’s error format', async () => {
    expect(await api('POST', '/v1/billing_portal/sessions', {})).toEqual({
      status: 400,
      body: {
        error: {
          type: 'invalid_request_error',
          message: 'Missing required param: customer.',
          param: 'customer',
        },
      },
    });
    const unknown = await api('POST', '/v1/billing_portal/sessions', { customer: 'cus_nobody' });
    expect(unknown.body.error).toMatchObject({
      code: 'resource_missing',
      message: "No such customer: 'cus_nobody'",
    });
    const session = await api('POST', '/v1/billing_portal/sessions', {
      customer: 'cus_fake_1',
      return_url: 'https://app.example/billing',
    });
    expect(session.body).toMatchObject({
      object: 'billing_portal.session',
      return_url: 'https://app.example/billing',
    });
    const portal = await fetch(session.body.url as string);
    expect(portal.headers.get('content-type')).toBe('text/html');
    const missing = await api('GET', '/v1/subscriptions/sub_nobody');
    expect(missing).toMatchObject({
      status: 404,
      body: { error: { code: 'resource_missing', param: 'id' } },
    });
    const route = await api('DELETE', '/v1/customers/cus_fake_1');
    expect(route.body.error).toMatchObject({
      message: 'Unrecognized request URL (DELETE: /v1/customers/cus_fake_1).',
    });
    expect((await api('GET', '/v1/subscriptions/sub_fake_1', undefined, 'sk_test_wrong')).status).toBe(401);
  });

  it('answers outages and rate limits until told otherwise or until they end', async () => {
    expect(await command('/_fake/outage', { status: 429 })).toBe(200);
    expect((await api('GET', '/v1/subscriptions/sub_fake_1')).body.error).toMatchObject({
      code: 'rate_limit',
    });
    expect(await command('/_fake/outage')).toBe(200);
    expect((await api('GET', '/v1/subscriptions/sub_fake_1')).status).toBe(200);
    stripe.outage(503, 0.05);
    expect((await api('GET', '/v1/subscriptions/sub_fake_1')).status).toBe(503);
    await new Promise((r) => setTimeout(r, 80));
    expect((await api('GET', '/v1/subscriptions/sub_fake_1')).status).toBe(200);
    expect(
      await command('/_fake/subscriptions', { id: 'sub_fake_2', customer: 'cus_fake_2', status: 'trialing' }),
    ).toBe(201);
    expect((await api('GET', '/v1/subscriptions/sub_fake_2')).body).toMatchObject({
      status: 'trialing',
      metadata: {},
    });
    expect(await command('/_fake/explode', {})).toBe(404);
  });
});
