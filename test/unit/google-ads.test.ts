import type { Conversion } from '../../functions/shared/features/conversions/model';
import type { StoredLead } from '../../functions/shared/features/leads/model';
import { GOOGLE_DATE_TIME, googleDateTime } from '../../functions/shared/providers/google-ads/datetime';
import {
  developerToken,
  uploadClickConversions,
  uploadHeaders,
  uploadUrl,
} from '../../functions/shared/providers/google-ads/google-ads-api/client';
import {
  clickConversion,
  uploadRequest,
} from '../../functions/shared/providers/google-ads/google-ads-api/request';
import {
  durationSeconds,
  requestErrorOf,
  rowIndexOf,
  rowOutcomes,
} from '../../functions/shared/providers/google-ads/google-ads-api/results';
import {
  googleNormalisedEmail,
  hashedEmail,
  hashedPhoneNumber,
} from '../../functions/shared/providers/google-ads/identifiers';
import { googleAdsSettingsBody } from '../../functions/shared/providers/google-ads/integration';
import {
  authorizationUrl,
  exchangeCode,
  newState,
  oauthRefusal,
  verifiedNonce,
} from '../../functions/shared/providers/google-ads/oauth';
import { chunks, rejectionReason, TOO_OLD } from '../../functions/shared/providers/google-ads/rules';
import { GoogleAdsFailure, TokenCache } from '../../functions/shared/providers/google-ads/tokens';
import { gbraid, gclid, wbraid } from '../support/click-ids';
import { storedConversion, storedLead } from '../support/fixtures';
import { sha } from '../support/hashing';

const NOW = new Date('2026-11-25T12:00:00Z');
const DAY = 24 * 3600 * 1000;

const conversion = (overrides: Partial<Conversion> = {}): Conversion =>
  storedConversion({ order_id: '5001', value: 149.9, ...overrides });

/**
 * The shared stored lead with its address and phone as a person typed them: what Google's
 * normalisation must turn into the hashes written out in the expected requests below. Those
 * requests are spelled out in full on purpose, as the oracle of the request builder.
 */
const lead = (overrides: Partial<StoredLead> = {}): StoredLead =>
  storedLead({
    email: 'Test.Email@Gmail.com',
    phone: '+4915123456789',
    consent: {
      status: 'granted',
      method: 'cookie_banner',
      ad_user_data: 'granted',
      ad_personalization: 'granted',
    },
    email_hash: 'x',
    ...overrides,
  });

const target = { customerId: '1234567890', conversionActionId: '987654321', timeZone: 'Europe/Berlin' };

describe('Google normalisation of user identifiers', () => {
  it.each([
    ['Test.Email@Gmail.com', 'testemail@gmail.com'],
    ['  t.e.s.t@googlemail.com ', 'test@googlemail.com'],
    ['John.Doe@Example.com', 'john.doe@example.com'],
    // Google's formatting guide: a gmail address loses its dots and its +suffix; others keep them.
    // https://developers.google.com/data-manager/api/devguides/concepts/formatting
    ['first.last+tag@GMAIL.COM', 'firstlast@gmail.com'],
    ['cloudy.sanfrancisco+shopping@gmail.com', 'cloudysanfrancisco@gmail.com'],
    ['user.name+NYC@Example.com', 'user.name+nyc@example.com'],
  ])('%s is hashed as %s', (input, normalised) => {
    expect(googleNormalisedEmail(input)).toBe(normalised);
    expect(hashedEmail(input)).toBe(sha(normalised));
  });

  it('an implausible email gives no identifier', () => {
    expect(hashedEmail('not an email')).toBeUndefined();
  });

  it.each([
    ['+49 151 23456789', undefined, '+4915123456789'],
    ['+1 (650) 253-0000', undefined, '+16502530000'],
    ['020 7946 0958', 'GB', '+442079460958'],
    ['+33 1 42 68 53 00', undefined, '+33142685300'],
    ['03-1234-5678', 'JP', '+81312345678'],
  ])('phone %s (%s) is hashed in E.164 as %s', (input, country, e164) => {
    expect(hashedPhoneNumber(input, country)).toBe(sha(e164));
  });

  it('a phone that is not a number gives no identifier', () => {
    expect(hashedPhoneNumber('12')).toBeUndefined();
  });
});

describe('conversionDateTime', () => {
  it.each([
    ['2026-01-15T12:00:00Z', 'Europe/Berlin', '2026-01-15 13:00:00+01:00'],
    ['2026-07-01T00:30:00Z', 'Europe/Berlin', '2026-07-01 02:30:00+02:00'],
    ['2026-03-08T06:59:59Z', 'America/New_York', '2026-03-08 01:59:59-05:00'],
    ['2026-03-08T07:00:00Z', 'America/New_York', '2026-03-08 03:00:00-04:00'],
    ['2026-10-25T00:59:59Z', 'Europe/London', '2026-10-25 01:59:59+01:00'],
    ['2026-10-25T01:00:00Z', 'Europe/London', '2026-10-25 01:00:00+00:00'],
    ['2026-01-01T00:00:00Z', 'America/Los_Angeles', '2025-12-31 16:00:00-08:00'],
    ['2026-05-01T10:00:00Z', 'Asia/Kolkata', '2026-05-01 15:30:00+05:30'],
    ['2026-01-10T10:00:00Z', 'America/St_Johns', '2026-01-10 06:30:00-03:30'],
    ['2026-05-01T10:00:00.999Z', 'UTC', '2026-05-01 10:00:00+00:00'],
  ])('%s in %s is %s', (instant, zone, expected) => {
    const formatted = googleDateTime(new Date(instant), zone);
    expect(formatted).toBe(expected);
    expect(formatted).toMatch(GOOGLE_DATE_TIME);
  });
});

describe('validation before sending', () => {
  it('accepts a conversion with one valid Google click id', () => {
    expect(rejectionReason(conversion(), NOW)).toBeUndefined();
    expect(
      rejectionReason(conversion({ click_id_type: 'gbraid', click_id: gbraid(2) }), NOW),
    ).toBeUndefined();
    expect(
      rejectionReason(conversion({ click_id_type: 'wbraid', click_id: wbraid(3) }), NOW),
    ).toBeUndefined();
  });

  it('refuses conversions without a Google click id or with a malformed one', () => {
    expect(rejectionReason(conversion({ click_id_type: 'fbclid' }), NOW)).toBe(
      'The conversion has no Google click id',
    );
    expect(rejectionReason(conversion({ click_id_type: undefined }), NOW)).toBe(
      'The conversion has no Google click id',
    );
    expect(rejectionReason(conversion({ click_id: 'short' }), NOW)).toBe('Invalid GCLID format');
    expect(rejectionReason(conversion({ click_id: `${gclid(1)}!` }), NOW)).toBe('Invalid GCLID format');
    expect(rejectionReason(conversion({ click_id: 'A'.repeat(201) }), NOW)).toBe('Invalid GCLID format');
    expect(rejectionReason(conversion({ click_id_type: 'gbraid', click_id: '' }), NOW)).toBe(
      'Invalid GBRAID format',
    );
  });

  it('refuses conversions older than 90 days, counted from the click when known, else from capture', () => {
    const old = new Date(NOW.getTime() - 91 * DAY).toISOString();
    const recent = new Date(NOW.getTime() - 89 * DAY).toISOString();
    expect(rejectionReason(conversion({ conversion_time: old, created_at: old }), NOW)).toBe(TOO_OLD);
    expect(rejectionReason(conversion({ conversion_time: recent, created_at: recent }), NOW)).toBeUndefined();
    expect(rejectionReason(conversion({ conversion_time: recent, created_at: recent }), NOW, old)).toBe(
      TOO_OLD,
    );
    expect(rejectionReason(conversion({ conversion_time: old, created_at: 'garbage' }), NOW)).toBe(TOO_OLD);
    expect(TOO_OLD).toBe('Conversion is too old (must be within 90 days)');
  });

  it('refuses a conversion before its click, a time that is not a date, and a negative value', () => {
    expect(rejectionReason(conversion(), NOW, '2026-11-24T09:00:00Z')).toBe(
      'The conversion happened before the click',
    );
    expect(rejectionReason(conversion({ conversion_time: 'yesterday' }), NOW)).toBe(
      'The conversion time is not a date',
    );
    expect(rejectionReason(conversion({ value: -1 }), NOW)).toBe('The conversion value must not be negative');
    expect(rejectionReason(conversion({ value: 0 }), NOW)).toBeUndefined();
  });
});

describe('request building', () => {
  it('builds the lowerCamelCase click conversion with consent and hashed identifiers', () => {
    expect(clickConversion(conversion(), lead(), target)).toEqual({
      gclid: gclid(1),
      conversionAction: 'customers/1234567890/conversionActions/987654321',
      conversionDateTime: '2026-11-24 09:30:00+01:00',
      conversionValue: 149.9,
      currencyCode: 'EUR',
      orderId: '5001',
      consent: { adUserData: 'GRANTED' },
      userIdentifiers: [
        { hashedEmail: sha('testemail@gmail.com') },
        { hashedPhoneNumber: sha('+4915123456789') },
      ],
    });
  });

  it('sends DENIED and no identifiers when the lead denied ad user data', () => {
    const denied = lead({
      consent: { status: 'granted', ad_user_data: 'denied', ad_personalization: 'granted' },
      phone: undefined,
    });
    const built = clickConversion(
      conversion({ click_id_type: 'gbraid', click_id: gbraid(1) }),
      denied,
      target,
    );
    expect(built.consent).toEqual({ adUserData: 'DENIED' });
    expect(built.userIdentifiers).toBeUndefined();
    expect(built.gbraid).toBe(gbraid(1));
    expect(built.gclid).toBeUndefined();
  });

  it('without a lead sends no consent signal and no identifiers; falls back to the account currency', () => {
    const built = clickConversion(conversion({ currency: undefined, order_id: undefined }), undefined, {
      ...target,
      currency: 'USD',
    });
    expect(built).not.toHaveProperty('consent');
    expect(built).not.toHaveProperty('userIdentifiers');
    expect(built).not.toHaveProperty('orderId');
    expect(built.currencyCode).toBe('USD');
    const noValue = clickConversion(conversion({ value: undefined }), undefined, target);
    expect(noValue).not.toHaveProperty('conversionValue');
    expect(noValue).not.toHaveProperty('currencyCode');
  });

  it('requests hold 1 to 2,000 conversions with partialFailure', () => {
    const one = clickConversion(conversion(), undefined, target);
    expect(uploadRequest([one])).toEqual({ conversions: [one], partialFailure: true });
    expect(() => uploadRequest([])).toThrow();
    expect(() => uploadRequest(Array.from({ length: 2001 }, () => one))).toThrow();
    expect(
      chunks(
        Array.from({ length: 5000 }, (_, i) => i),
        2000,
      ).map((c) => c.length),
    ).toEqual([2000, 2000, 1000]);
  });
});

const located = (index: number | undefined, code: Record<string, string>, message = 'row error') => ({
  errorCode: code,
  message,
  location: {
    fieldPathElements: [
      index === undefined ? { fieldName: 'conversions' } : { fieldName: 'conversions', index },
      { fieldName: 'gclid' },
    ],
  },
});

describe('partial failure parsing', () => {
  it('places errors by fieldPathElements, index 0 included, and reads results for the rest', () => {
    const body = {
      results: [{}, { gclid: 'b', conversionAction: 'x', conversionDateTime: 'y' }, {}, {}, {}],
      partialFailureError: {
        code: 3,
        message: 'Multiple errors in details',
        details: [
          {
            '@type': 'type.googleapis.com/google.ads.googleads.v25.errors.GoogleAdsFailure',
            errors: [
              located(0, { conversionUploadError: 'UNPARSEABLE_GCLID' }),
              located(2, { conversionUploadError: 'CLICK_CONVERSION_ALREADY_EXISTS' }),
              located(3, { conversionUploadError: 'TOO_RECENT_EVENT' }),
              located(4, { conversionUploadError: 'SOMETHING_NEW' }, 'Something new happened.'),
            ],
          },
        ],
      },
    };
    expect(rowOutcomes(body, 5)).toEqual([
      { kind: 'failed', code: 'UNPARSEABLE_GCLID', reason: 'Google Ads could not read the click id' },
      { kind: 'uploaded' },
      { kind: 'uploaded', alreadyDelivered: true },
      { kind: 'rescheduled', code: 'TOO_RECENT_EVENT', reason: expect.stringContaining('few hours') },
      {
        kind: 'failed',
        code: 'SOMETHING_NEW',
        reason: 'Google Ads rejected the conversion: Something new happened.',
      },
    ]);
  });

  it('ORDER_ID_ALREADY_IN_USE counts as delivered', () => {
    const body = {
      results: [{}],
      partialFailureError: {
        details: [{ errors: [located(0, { conversionUploadError: 'ORDER_ID_ALREADY_IN_USE' })] }],
      },
    };
    expect(rowOutcomes(body, 1)).toEqual([{ kind: 'uploaded', alreadyDelivered: true }]);
  });

  it('errors without a location or out of range fail only the rows without a result', () => {
    const body = {
      results: [{ gclid: 'a' }, {}],
      partialFailureError: {
        message: 'x',
        details: [
          {
            errors: [
              { errorCode: { conversionUploadError: 'EVENT_NOT_FOUND' }, message: 'not found' },
              located(7, { conversionUploadError: 'EXPIRED_EVENT' }),
            ],
          },
        ],
      },
    };
    expect(rowOutcomes(body, 2)).toEqual([
      { kind: 'uploaded' },
      {
        kind: 'failed',
        code: 'EVENT_NOT_FOUND',
        reason: 'Google Ads does not know this click in this account',
      },
    ]);
    expect(rowIndexOf(located(7, {}), 2)).toBeUndefined();
    expect(rowIndexOf(located(undefined, {}), 2)).toBe(0);
    expect(
      rowIndexOf({ location: { fieldPathElements: [{ fieldName: 'other', index: 1 }] } }, 2),
    ).toBeUndefined();
  });

  it('a partial failure with nothing placed fails the rows without a result; no error means uploaded', () => {
    expect(rowOutcomes({ results: [{}], partialFailureError: { message: 'Bad' } }, 1)).toEqual([
      { kind: 'failed', reason: 'Google Ads rejected the conversion: Bad' },
    ]);
    expect(rowOutcomes({ results: [{}], partialFailureError: {} }, 1)).toEqual([
      { kind: 'failed', reason: 'Google Ads rejected the conversion: no reason given' },
    ]);
    expect(rowOutcomes({}, 2)).toEqual([{ kind: 'uploaded' }, { kind: 'uploaded' }]);
    const noCode = {
      results: [{}],
      partialFailureError: { details: [{ errors: [{ location: located(0, {}).location }] }] },
    };
    expect(rowOutcomes(noCode, 1)).toEqual([
      { kind: 'failed', reason: 'Google Ads rejected the conversion: no reason given' },
    ]);
  });

  it('reads retry delays and error families of request-level errors', () => {
    expect(durationSeconds('30s')).toBe(30);
    expect(durationSeconds('1.2s')).toBe(2);
    expect(durationSeconds('soon')).toBeUndefined();
    expect(durationSeconds(5)).toBeUndefined();
    const quota = {
      error: {
        code: 429,
        message: 'Resource has been exhausted',
        details: [
          {
            errors: [
              {
                errorCode: { quotaError: 'RESOURCE_EXHAUSTED' },
                details: { quotaErrorDetails: { retryDelay: '7s' } },
              },
            ],
          },
        ],
      },
    };
    expect(requestErrorOf(quota)).toEqual({
      codes: ['RESOURCE_EXHAUSTED'],
      categories: ['quotaError'],
      message: 'Resource has been exhausted',
      retryDelaySeconds: 7,
    });
    expect(requestErrorOf({ error: { details: [{ retryDelay: '3s' }] } }).retryDelaySeconds).toBe(3);
    expect(requestErrorOf(undefined)).toEqual({ codes: [], categories: [] });
  });
});

describe('settings body', () => {
  it('normalises account ids and checks the time zone and currency', () => {
    const parsed = googleAdsSettingsBody.safeParse({
      customer_id: '123-456-7890',
      conversion_action_id: '987 654',
      login_customer_id: '111-222-3333',
      client_id: ' id ',
      client_secret: 's',
      refresh_token: 'r',
      currency: 'EUR',
      time_zone: 'Europe/Berlin',
    });
    expect(parsed.success && parsed.data).toMatchObject({
      customer_id: '1234567890',
      conversion_action_id: '987654',
      login_customer_id: '1112223333',
      client_id: 'id',
    });
    const bad = googleAdsSettingsBody.safeParse({
      customer_id: '123',
      conversion_action_id: 'abc',
      client_id: '',
      client_secret: '',
      refresh_token: '',
      currency: 'euro',
      time_zone: 'Mars/Olympus',
    });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => i.path.join('.')).sort()).toEqual(
      [
        'client_id',
        'client_secret',
        'conversion_action_id',
        'currency',
        'customer_id',
        'refresh_token',
        'time_zone',
      ].sort(),
    );
  });
});

function respond(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? '' : JSON.stringify(body), { status, headers });
}

describe('access tokens', () => {
  const credential = { clientId: 'client', clientSecret: 'cs-value-7f3a', refreshToken: 'rt-value-9b2c' };

  it('refreshes once and reuses the token until five minutes before expiry', async () => {
    let clock = 0;
    const calls: Array<{ url: string; body: string }> = [];
    const cache = new TokenCache(
      async (url, init) => {
        calls.push({ url: String(url), body: String(init?.body) });
        return respond(200, { access_token: `token-${calls.length}`, expires_in: 3600 });
      },
      () => clock,
    );
    expect(await cache.accessToken(credential)).toBe('token-1');
    clock = 54 * 60 * 1000;
    expect(await cache.accessToken(credential)).toBe('token-1');
    clock = 55 * 60 * 1000;
    expect(await cache.accessToken(credential)).toBe('token-2');
    expect(cache.refreshes).toBe(2);
    expect(new URLSearchParams(calls[0]?.body)).toEqual(
      new URLSearchParams({
        client_id: 'client',
        client_secret: 'cs-value-7f3a',
        refresh_token: 'rt-value-9b2c',
        grant_type: 'refresh_token',
      }),
    );
    expect(calls[0]?.url).toBe('https://oauth2.googleapis.com/token');
    cache.forget(credential);
    expect(await cache.accessToken(credential)).toBe('token-3');
  });

  it('invalid_grant disconnects; 5xx and network errors are transient; other refusals are configuration', async () => {
    const kinds = async (answer: () => Promise<Response>) => {
      try {
        await new TokenCache(answer).accessToken(credential);
        return 'ok';
      } catch (error) {
        expect(error).toBeInstanceOf(GoogleAdsFailure);
        expect((error as Error).message).not.toContain('cs-value-7f3a');
        expect((error as Error).message).not.toContain('rt-value-9b2c');
        return (error as GoogleAdsFailure).kind;
      }
    };
    expect(await kinds(async () => respond(400, { error: 'invalid_grant' }))).toBe('disconnected');
    expect(await kinds(async () => respond(503, undefined))).toBe('transient');
    expect(await kinds(async () => respond(401, { error: 'invalid_client' }))).toBe('configuration');
    expect(await kinds(async () => respond(400, 'not json'))).toBe('configuration');
    expect(
      await kinds(async () => {
        throw new TypeError('fetch failed');
      }),
    ).toBe('transient');
    expect(
      await kinds(async () => {
        throw new DOMException('timed out', 'TimeoutError');
      }),
    ).toBe('transient');
    expect(await kinds(async () => new Response('{broken', { status: 200 }))).toBe('configuration');
  });
});

describe('uploadClickConversions', () => {
  const body = uploadRequest([clickConversion(conversion(), undefined, target)]);
  const call = { customerId: '1234567890', accessToken: 'access', body };

  afterEach(() => {
    delete process.env.GOOGLE_ADS_DEVELOPER_TOKEN;
    delete process.env.GOOGLE_ADS_API_BASE_URL;
    delete process.env.GOOGLE_ADS_API_VERSION;
  });

  it('posts to the configured version with the headers Google wants', async () => {
    expect(uploadUrl('1234567890')).toBe(
      'https://googleads.googleapis.com/v26/customers/1234567890:uploadClickConversions',
    );
    process.env.GOOGLE_ADS_API_BASE_URL = 'http://127.0.0.1:9/';
    process.env.GOOGLE_ADS_API_VERSION = 'v26';
    expect(uploadUrl('1')).toBe('http://127.0.0.1:9/v26/customers/1:uploadClickConversions');
    expect(uploadHeaders({ accessToken: 'a' })).toEqual({
      'Content-Type': 'application/json',
      Authorization: 'Bearer a',
    });
    expect(await developerToken()).toBeUndefined();
    process.env.GOOGLE_ADS_DEVELOPER_TOKEN = 'dev';
    expect(await developerToken()).toBe('dev');
    expect(uploadHeaders({ accessToken: 'a', loginCustomerId: '111' }, 'dev')).toEqual({
      'Content-Type': 'application/json',
      Authorization: 'Bearer a',
      'login-customer-id': '111',
      'developer-token': 'dev',
    });
    let seen: RequestInit | undefined;
    const answer = await uploadClickConversions(call, async (_url, init) => {
      seen = init;
      return respond(200, { results: [{ gclid: 'x' }] }, { 'request-id': 'req-1' });
    });
    expect(answer).toEqual({ body: { results: [{ gclid: 'x' }] }, requestId: 'req-1' });
    expect(JSON.parse(String(seen?.body))).toEqual(body);
    expect(seen?.signal).toBeInstanceOf(AbortSignal);
  });

  it('classifies request-level failures', async () => {
    const failure = async (answer: () => Promise<Response>) => {
      try {
        await uploadClickConversions(call, answer);
        return undefined;
      } catch (error) {
        return error as GoogleAdsFailure;
      }
    };
    const quota = await failure(async () =>
      respond(429, {
        error: {
          details: [
            {
              errors: [
                {
                  errorCode: { quotaError: 'RESOURCE_EXHAUSTED' },
                  details: { quotaErrorDetails: { retryDelay: '12s' } },
                },
              ],
            },
          ],
        },
      }),
    );
    expect(quota).toMatchObject({ kind: 'transient', retryAfterSeconds: 12, status: 429 });
    expect(await failure(async () => respond(429, undefined, { 'retry-after': '4' }))).toMatchObject({
      retryAfterSeconds: 4,
    });
    expect(await failure(async () => respond(503, undefined))).toMatchObject({
      kind: 'transient',
      status: 503,
    });
    expect(await failure(async () => respond(401, undefined))).toMatchObject({
      kind: 'transient',
      status: 401,
    });
    expect(await failure(async () => respond(403, { error: { message: 'denied' } }))).toMatchObject({
      kind: 'configuration',
    });
    expect(
      await failure(async () =>
        respond(400, {
          error: {
            details: [
              {
                errors: [
                  { errorCode: { conversionUploadError: 'CUSTOMER_NOT_ACCEPTED_CUSTOMER_DATA_TERMS' } },
                ],
              },
            ],
          },
        }),
      ),
    ).toMatchObject({
      // The account's own setup: the tenant's conversions wait for it in the log, not the DLQ.
      kind: 'needs_configuration',
      message: expect.stringContaining('(CUSTOMER_NOT_ACCEPTED_CUSTOMER_DATA_TERMS)'),
    });
    expect(
      await failure(async () =>
        respond(400, {
          error: { details: [{ errors: [{ errorCode: { authorizationError: 'USER_PERMISSION_DENIED' } }] }] },
        }),
      ),
    ).toMatchObject({ kind: 'configuration' });
    const rejected = await failure(async () =>
      respond(400, { error: { message: 'Request contains an invalid argument.' } }),
    );
    expect(rejected).toMatchObject({ kind: 'rejected' });
    expect(rejected?.message).toContain('invalid argument');
    const timedOut = await failure(async () => {
      throw new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    });
    expect(timedOut?.kind).toBe('transient');
    expect(timedOut?.message).toBe('Google Ads timed out');
  });
});

describe('OAuth state and code exchange', () => {
  it("names Google's OAuth error code on a refused connection, and never repeats anything else back", () => {
    expect(oauthRefusal('access_denied')).toBe('Google answered access_denied');
    for (const hostile of ['<script>alert(1)</script>', 'access_denied\r\nX: y', 'A'.repeat(65), ''])
      expect(oauthRefusal(hostile)).toBe('Google refused the authorization');
  });

  const current = Buffer.alloc(32, 1);
  const previous = Buffer.alloc(32, 2);

  it('verifies a state signed with the current or previous key, refuses tampered or malformed ones', () => {
    const { state, nonce } = newState(current);
    expect(verifiedNonce(state, [current])).toBe(nonce);
    expect(verifiedNonce(newState(previous).state, [current, previous])).toEqual(expect.any(String));
    expect(verifiedNonce(newState(previous).state, [current])).toBeUndefined();
    const [n, sig] = state.split('.') as [string, string];
    // The first character carries six bits of the signature (the last one partly padding).
    expect(
      verifiedNonce(`${n}.${sig.startsWith('A') ? 'B' : 'A'}${sig.slice(1)}`, [current]),
    ).toBeUndefined();
    expect(verifiedNonce('not-a-state', [current])).toBeUndefined();
    expect(verifiedNonce('', [current])).toBeUndefined();
  });

  it('builds the consent screen URL for offline access to the Data Manager and Google Ads APIs', () => {
    const url = new URL(authorizationUrl('cid', 'https://api.example.com/cb', 'st'));
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: 'cid',
      redirect_uri: 'https://api.example.com/cb',
      response_type: 'code',
      scope: 'https://www.googleapis.com/auth/datamanager https://www.googleapis.com/auth/adwords',
      access_type: 'offline',
      prompt: 'consent',
      include_granted_scopes: 'true',
      state: 'st',
    });
  });

  it('exchanges a code for a refresh token; refusals are 400, an unreachable endpoint is transient', async () => {
    const client = { clientId: 'c', clientSecret: 's' };
    let form: URLSearchParams | undefined;
    expect(
      await exchangeCode('code-1', client, 'https://x/cb', async (_u, init) => {
        form = new URLSearchParams(String(init?.body));
        return respond(200, { access_token: 'a', refresh_token: '1//r' });
      }),
    ).toEqual({ refreshToken: '1//r' });
    expect(
      await exchangeCode('code-2', client, 'https://x/cb', async () =>
        respond(200, { refresh_token: '1//s', scope: 'https://www.googleapis.com/auth/adwords  openid' }),
      ),
    ).toEqual({ refreshToken: '1//s', scopes: ['https://www.googleapis.com/auth/adwords', 'openid'] });
    expect(form?.get('grant_type')).toBe('authorization_code');
    expect(form?.get('redirect_uri')).toBe('https://x/cb');
    await expect(
      exchangeCode('c', client, 'r', async () => respond(400, { error: 'invalid_grant' })),
    ).rejects.toMatchObject({
      kind: 'validation',
    });
    await expect(
      exchangeCode('c', client, 'r', async () => respond(200, { access_token: 'a' })),
    ).rejects.toMatchObject({
      kind: 'validation',
    });
    await expect(exchangeCode('c', client, 'r', async () => respond(502, undefined))).rejects.toMatchObject({
      kind: 'validation',
    });
    await expect(
      exchangeCode('c', client, 'r', async () => {
        throw new TypeError('fetch failed');
      }),
    ).rejects.toBeInstanceOf(GoogleAdsFailure);
  });
});
