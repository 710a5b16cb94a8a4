import type { QueuedMessage } from '../../functions/conversion-uploader/messages';
import { emptyMetrics, type UploadMetrics } from '../../functions/conversion-uploader/metrics';
import type { MessageResult } from '../../functions/conversion-uploader/results';
import { uploadMessages } from '../../functions/conversion-uploader/upload';
import type {
  AttemptOutcome,
  LoggedConversion,
} from '../../functions/shared/features/conversions/dynamo-log';
import { integrationMatchingSources } from '../../functions/shared/features/conversions/dynamo-matching-sources';
import type { Conversion } from '../../functions/shared/features/conversions/model';
import {
  type MatchingRules,
  matchingRules,
  matchOf,
  NOT_PLANNED,
  planConversions,
} from '../../functions/shared/features/conversions/rules/plan';
import { integrationsOverview } from '../../functions/shared/features/integrations/service';
import type { StoredLead } from '../../functions/shared/features/leads/model';
import {
  DataManagerRejection,
  dataManagerCall,
} from '../../functions/shared/providers/google-ads/data-manager/client';
import { eventProblem, ingestEvent } from '../../functions/shared/providers/google-ads/data-manager/request';
import { clickConversion } from '../../functions/shared/providers/google-ads/google-ads-api/request';
import type {
  IntegrationStatus,
  StoredGoogleAdsIntegration,
} from '../../functions/shared/providers/google-ads/integration';
import {
  dataManagerTransport,
  type GoogleConnectionDeps,
  googleAdsApiTransport,
  googleProvider,
  NEEDS_CONFIGURATION,
} from '../../functions/shared/providers/google-ads/provider';
import { rejectionReason } from '../../functions/shared/providers/google-ads/rules';
import { GoogleAdsFailure } from '../../functions/shared/providers/google-ads/tokens';
import { buildMetaEvent } from '../../functions/shared/providers/meta/events';
import type { StoredMetaIntegration } from '../../functions/shared/providers/meta/integration';
import { metaEventInput } from '../../functions/shared/providers/meta/provider';
import { fbclid, gclid } from '../support/click-ids';
import { storedLead } from '../support/fixtures';
import { sha } from '../support/hashing';

/**
 * Conversions without a click id: which ones are planned and why not, how each platform's request
 * carries them, and what Google's refusal for an account's setup does to the tenant's uploads.
 */
const NOW = new Date('2026-11-25T12:00:00Z');

/**
 * The shared stored lead with its address and phone as a person typed them: what Google's
 * normalisation must turn into the hashes written out in the expected requests below. Those
 * requests are spelled out in full on purpose, as the oracle of the request builder.
 */
const lead = (overrides: Partial<StoredLead> = {}): StoredLead =>
  storedLead({
    id: 'led_abc123',
    email: ' Jane.Doe+shop@GMail.com ',
    phone: '+49 151 23456789',
    ...overrides,
  });

const BOTH_ON: MatchingRules = {
  google_ads: { enhancedConversionsForLeads: true },
  meta: { matchByUserData: true },
};

describe('planning conversions from a won lead', () => {
  const plan = (l: StoredLead, rules: MatchingRules = BOTH_ON) =>
    planConversions(l, { orderId: 'o-1', value: 20, currency: 'EUR' }, NOW, rules);

  it('a click id makes a click_id conversion of its platform, connected or not', () => {
    const { conversions, notPlanned } = plan(lead({ gclid: gclid(1), fbclid: fbclid(1) }), {});
    expect(conversions.map((c) => [c.platform, c.match, c.click_id_type])).toEqual([
      ['google_ads', 'click_id', 'gclid'],
      ['meta', 'click_id', 'fbclid'],
    ]);
    expect(notPlanned).toEqual([]);
  });

  it('without a click id, each connected platform that allows it gets a user_data conversion', () => {
    const { conversions, notPlanned } = plan(lead());
    expect(conversions.map((c) => [c.id, c.platform, c.match, c.click_id, c.order_id])).toEqual([
      ['cnv_abc123g', 'google_ads', 'user_data', undefined, 'o-1'],
      ['cnv_abc123m', 'meta', 'user_data', undefined, 'o-1'],
    ]);
    expect(notPlanned).toEqual([]);
  });

  it('mixes: a gclid for Google, user data for Meta', () => {
    const { conversions } = plan(lead({ gbraid: '0AAAAAxxxxxxxxxxxxxxxxxxxxxxxxxxxx' }));
    expect(conversions.map((c) => [c.platform, c.match])).toEqual([
      ['google_ads', 'click_id'],
      ['meta', 'user_data'],
    ]);
  });

  it('a platform not connected gets nothing and no note; one whose setting is off says so', () => {
    expect(plan(lead(), {})).toEqual({ conversions: [], notPlanned: [] });
    const off = plan(lead(), {
      google_ads: { enhancedConversionsForLeads: false },
      meta: { matchByUserData: false },
    });
    expect(off.conversions).toEqual([]);
    expect(off.notPlanned).toEqual([
      { platform: 'google_ads', reason: NOT_PLANNED.googleOff },
      { platform: 'meta', reason: NOT_PLANNED.metaOff },
    ]);
  });

  it('ad_user_data denied (consent otherwise granted) keeps everything out, and says so', () => {
    const denied = lead({
      consent: { status: 'granted', ad_user_data: 'denied', ad_personalization: 'granted' },
    });
    expect(plan(denied).notPlanned.map((n) => n.reason)).toEqual([NOT_PLANNED.consent, NOT_PLANNED.consent]);
    expect(plan(denied).conversions).toEqual([]);
  });

  it('consent not required (regional policy) allows matching on user data', () => {
    const regional = lead({ consent: { status: 'not_required', basis: 'regional_policy', country: 'US' } });
    expect(plan(regional).conversions.map((c) => c.match)).toEqual(['user_data', 'user_data']);
  });

  it('pending banner consent without ad_user_data granted cannot stand in for a click', () => {
    const pending = lead({
      consent: {
        status: 'pending',
        method: 'cookie_banner',
        ad_user_data: 'denied',
        ad_personalization: 'denied',
      },
    });
    expect(plan(pending).conversions).toEqual([]);
  });

  it('no usable e-mail or phone: nothing to match on', () => {
    const { conversions, notPlanned } = plan(lead({ email: 'not an address', phone: 'call me' }));
    expect(conversions).toEqual([]);
    expect(notPlanned).toEqual([
      { platform: 'google_ads', reason: NOT_PLANNED.noIdentifiers },
      { platform: 'meta', reason: NOT_PLANNED.noIdentifiers },
    ]);
    // A phone alone is enough.
    expect(plan(lead({ email: '' })).conversions).toHaveLength(2);
  });

  it('a restricted lead becomes nothing, saying why for each connected platform', () => {
    expect(plan(lead({ restricted: true }))).toEqual({
      conversions: [],
      notPlanned: [
        { platform: 'google_ads', reason: NOT_PLANNED.restricted },
        { platform: 'meta', reason: NOT_PLANNED.restricted },
      ],
    });
  });

  it('reads the rules from the integrations, each setting at its default', async () => {
    const rules = (google?: object, meta?: object) =>
      matchingRules({ googleAds: async () => google, meta: async () => meta }, 't1');
    expect(await rules()).toEqual({});
    expect(await rules({}, {})).toEqual({
      google_ads: { enhancedConversionsForLeads: false },
      meta: { matchByUserData: true },
    });
    expect(await rules({ enhanced_conversions_for_leads: true }, { match_by_user_data: false })).toEqual({
      google_ads: { enhancedConversionsForLeads: true },
      meta: { matchByUserData: false },
    });
  });

  it("reads each platform's integration of the tenant", async () => {
    const asked: string[] = [];
    const sources = integrationMatchingSources({
      googleAds: {
        get: async (id) => {
          asked.push(`google:${id}`);
          return { enhanced_conversions_for_leads: true };
        },
      },
      meta: {
        get: async (id) => {
          asked.push(`meta:${id}`);
          return undefined;
        },
      },
    });
    expect(await matchingRules(sources, 't9')).toEqual({ google_ads: { enhancedConversionsForLeads: true } });
    expect(asked.sort()).toEqual(['google:t9', 'meta:t9']);
  });

  it('a conversion stored before match existed is a click_id one', () => {
    expect(matchOf({ click_id_type: 'gclid' })).toBe('click_id');
    expect(matchOf({ match: 'user_data' })).toBe('user_data');
    expect(matchOf({})).toBe('user_data');
  });
});

function userDataConversion(overrides: Partial<Conversion> = {}): LoggedConversion {
  return {
    id: 'cnv_abc123g',
    lead_id: 'led_abc123',
    platform: 'google_ads',
    match: 'user_data',
    status: 'queued',
    attempts: 0,
    order_id: 'o-1',
    conversion_time: '2026-11-24T08:30:00.000Z',
    value: 20,
    currency: 'EUR',
    event_source: 'web',
    created_at: '2026-11-24T08:31:00.000Z',
    updated_at: '2026-11-24T08:31:00.000Z',
    ...overrides,
  };
}

const target = { customerId: '1234567890', conversionActionId: '555' };

describe('Google: enhanced conversions for leads', () => {
  it('Data Manager: an event with hashed userData, no adIdentifiers, the event source and consent', () => {
    const event = ingestEvent(userDataConversion(), lead(), target);
    expect(event).toEqual({
      transactionId: 'o-1',
      eventTimestamp: '2026-11-24T08:30:00.000Z',
      eventSource: 'WEB',
      conversionValue: 20,
      currency: 'EUR',
      consent: { adUserData: 'CONSENT_GRANTED' },
      userData: {
        // Google's formatting guide: gmail loses dots and +suffix; the phone is E.164.
        // https://developers.google.com/data-manager/api/devguides/concepts/formatting
        userIdentifiers: [{ emailAddress: sha('janedoe@gmail.com') }, { phoneNumber: sha('+4915123456789') }],
      },
    });
    expect(eventProblem(event)).toBeUndefined();
    expect(ingestEvent(userDataConversion({ event_source: 'other' }), lead(), target).eventSource).toBe(
      'OTHER',
    );
  });

  it('a userData-only event without identifiers is refused before sending', () => {
    const event = ingestEvent(userDataConversion(), lead({ email: 'x', phone: 'y' }), target);
    expect(eventProblem(event)).toMatch(/needs a hashed e-mail or phone/);
  });

  it('Google Ads API: a click conversion with userIdentifiers only', () => {
    const out = clickConversion(userDataConversion(), lead(), { ...target, timeZone: 'UTC' });
    expect(out).toEqual({
      conversionAction: 'customers/1234567890/conversionActions/555',
      conversionDateTime: '2026-11-24 08:30:00+00:00',
      conversionValue: 20,
      currencyCode: 'EUR',
      orderId: 'o-1',
      consent: { adUserData: 'GRANTED' },
      userIdentifiers: [
        { hashedEmail: sha('janedoe@gmail.com') },
        { hashedPhoneNumber: sha('+4915123456789') },
      ],
    });
  });

  it('the rules: no click id is fine for user_data, a click id on one is not; it needs its lead', () => {
    expect(rejectionReason(userDataConversion(), NOW)).toBeUndefined();
    expect(rejectionReason(userDataConversion({ click_id_type: 'gclid', click_id: gclid(2) }), NOW)).toMatch(
      /carries no click id/,
    );
    expect(rejectionReason(userDataConversion({ lead_id: undefined }), NOW)).toMatch(/needs its lead/);
    expect(rejectionReason(userDataConversion({ created_at: '2026-07-01T00:00:00Z' }), NOW)).toMatch(
      /too old/,
    );
  });

  it.each([
    'DESTINATION_ACCOUNT_NOT_ENABLED_ENHANCED_CONVERSIONS_FOR_LEADS',
    'DESTINATION_ACCOUNT_ENHANCED_CONVERSIONS_TERMS_NOT_SIGNED',
    'DESTINATION_ACCOUNT_DATA_POLICY_PROHIBITS_ENHANCED_CONVERSIONS',
  ])('Data Manager %s is needs_configuration with the reason, wherever Google puts it', async (reason) => {
    const answer = (body: unknown) => async () => new Response(JSON.stringify(body), { status: 400 });
    const call = { method: 'POST' as const, path: '/v1/events:ingest', accessToken: 'a', body: {} };
    const inErrorInfo = { error: { code: 400, status: 'INVALID_ARGUMENT', details: [{ reason }] } };
    const inViolation = {
      error: {
        code: 400,
        status: 'INVALID_ARGUMENT',
        details: [{ fieldViolations: [{ field: 'events.events[0]', reason }] }],
      },
    };
    for (const body of [inErrorInfo, inViolation]) {
      const failure = await dataManagerCall(call, answer(body) as typeof fetch).catch((e) => e);
      expect(failure).toBeInstanceOf(GoogleAdsFailure);
      expect(failure).not.toBeInstanceOf(DataManagerRejection);
      expect(failure).toMatchObject({
        kind: 'needs_configuration',
        message: expect.stringContaining(`(${reason})`),
      });
    }
  });
});

/** The uploader with Google's provider, a tenant whose account refuses enhanced conversions. */
function uploaderWorld(send: 'data_manager' | 'google_ads_api', refuse: boolean) {
  const integration: StoredGoogleAdsIntegration = {
    customer_id: '1234567890',
    conversion_action_id: '555',
    client_id: 'client',
    time_zone: 'UTC',
    enhanced_conversions_for_leads: true,
    status: 'connected',
    updated_at: NOW.toISOString(),
    sealed_client_secret: 's1',
    sealed_refresh_token: 's2',
  };
  const state = {
    integration,
    attempts: [] as Array<{ id: string; outcome: AttemptOutcome }>,
    statuses: [] as Array<{ reason: string; status?: IntegrationStatus }>,
    sent: 0,
  };
  const deps: GoogleConnectionDeps = {
    integrations: {
      get: async () => state.integration,
      disconnect: async (_t, reason, status) => {
        state.statuses.push({ reason, ...(status ? { status } : {}) });
        state.integration = { ...state.integration, status: status ?? 'disconnected', status_reason: reason };
      },
    },
    credential: async () => ({ clientId: 'c', clientSecret: 's', refreshToken: 'r' }),
    accessToken: async () => 'token',
    forgetToken: () => undefined,
  };
  const transport =
    send === 'data_manager'
      ? dataManagerTransport({
          ingest: async () => {
            state.sent += 1;
            if (refuse)
              throw new GoogleAdsFailure(
                'needs_configuration',
                'The Google Ads account is not enabled (DESTINATION_ACCOUNT_NOT_ENABLED_ENHANCED_CONVERSIONS_FOR_LEADS)',
                undefined,
                400,
              );
            return { requestId: 'r-1' };
          },
          retrieve: async () => ({}),
        })
      : googleAdsApiTransport(async () => {
          state.sent += 1;
          return {
            body: refuse
              ? {
                  results: [{}],
                  partialFailureError: {
                    code: 3,
                    message: 'not enabled',
                    details: [
                      {
                        errors: [
                          {
                            errorCode: {
                              conversionUploadError: 'CUSTOMER_NOT_ENABLED_ENHANCED_CONVERSIONS_FOR_LEADS',
                            },
                            location: { fieldPathElements: [{ fieldName: 'conversions', index: 0 }] },
                          },
                        ],
                      },
                    ],
                  },
                }
              : { results: [{ conversionAction: 'x' }] },
          };
        });
  const conversions = new Map<string, LoggedConversion>([['cnv_abc123g', userDataConversion()]]);
  const run = async (metrics: UploadMetrics = emptyMetrics()) => {
    const messages: QueuedMessage[] = [
      {
        messageId: 'm1',
        message: { version: 1, tenant_id: 't1', conversion_id: 'cnv_abc123g' },
        receiveCount: 1,
      },
    ];
    const results: Map<string, MessageResult> = await uploadMessages(
      messages,
      {
        conversions: {
          get: async (_t, id) => conversions.get(id),
          recordAttempt: async (_t, id, outcome) => {
            state.attempts.push({ id, outcome });
            return true;
          },
          recordBatch: async () => undefined,
          cancel: async () => true,
        },
        leads: { get: async () => lead() },
        providers: { google_ads: googleProvider(deps, transport) as never },
        now: () => NOW,
        random: () => 0.5,
        retryBaseSeconds: 30,
      },
      metrics,
    );
    return { results, metrics };
  };
  return { state, run };
}

describe.each(['data_manager', 'google_ads_api'] as const)('the uploader on %s', (transport) => {
  it('sends a user_data conversion and counts it per platform and match kind', async () => {
    const { state, run } = uploaderWorld(transport, false);
    const { results, metrics } = await run();
    expect(results.get('m1')).toEqual({ kind: 'done' });
    expect(state.attempts.map((a) => a.outcome.status)).toEqual(['uploaded']);
    expect(metrics.platforms.google_ads?.sentByMatch).toEqual({ click_id: 0, user_data: 1 });
  });

  it("Google's refusal for the account's setup parks the tenant's conversions in the log, flags it, dead-letters nothing", async () => {
    const { state, run } = uploaderWorld(transport, true);
    const first = await run();
    expect(first.results.get('m1')).toEqual({ kind: 'done' });
    expect(state.attempts).toEqual([
      {
        id: 'cnv_abc123g',
        outcome: expect.objectContaining({
          status: 'queued',
          error: expect.stringContaining('ENHANCED_CONVERSIONS_FOR_LEADS'),
        }),
      },
    ]);
    expect(state.statuses).toEqual([
      { status: 'needs_configuration', reason: expect.stringContaining('ENHANCED_CONVERSIONS_FOR_LEADS') },
    ]);
    expect(first.metrics.stops).toEqual([{ platform: 'google_ads', kind: 'needs_configuration' }]);
    // Later messages wait in the log without a request while the integration needs configuration.
    const second = await run();
    expect(state.sent).toBe(1);
    expect(second.results.get('m1')).toEqual({ kind: 'done' });
    expect(second.metrics.stops).toEqual([]);
    expect(state.attempts[1]?.outcome).toMatchObject({ status: 'queued', attempted: false });
  });
});

it('a needs_configuration integration without a stored reason says what to do', async () => {
  const provider = googleProvider(
    {
      integrations: {
        get: async () => ({ status: 'needs_configuration' }) as StoredGoogleAdsIntegration,
        disconnect: async () => undefined,
      },
      credential: async () => ({ clientId: 'c', clientSecret: 's', refreshToken: 'r' }),
      accessToken: async () => 't',
      forgetToken: () => undefined,
    },
    googleAdsApiTransport(async () => ({ body: {} })),
  );
  expect(await provider.connect('t1')).toEqual({ kind: 'parked', reason: NEEDS_CONFIGURATION, waits: true });
  expect(
    provider.rejectionReason({ conversion: userDataConversion(), lead: lead({ email: '', phone: '' }) }, NOW),
  ).toBe('No click id, and no e-mail or phone to match on');
});

describe('Meta: matched on user data', () => {
  const metaConversion = userDataConversion({ id: 'cnv_abc123m', platform: 'meta' });
  const rich = lead({
    external_id: 'shopify:cust-9',
    fbp: 'fb.1.1596403881668.1116446470',
    client_ip_address: '203.0.113.7',
    client_user_agent: 'Mozilla/5.0',
    landing_page: 'https://shop.example/p/1',
  });

  it('em, ph, external_id (the lead id, hashed), fbp, IP and user agent; no fbc; the event id for deduplication', () => {
    const built = buildMetaEvent(
      metaEventInput({ conversion: metaConversion, lead: rich }),
      { limitedDataUse: true },
      NOW,
    );
    if (built.kind !== 'event') throw new Error(JSON.stringify(built));
    expect(built.event.event_id).toBe('cnv_abc123m');
    expect(built.event.action_source).toBe('website');
    expect(built.event.data_processing_options).toEqual(['LDU']);
    // https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/customer-information-parameters
    expect(built.event.user_data).toEqual({
      em: [sha('jane.doe+shop@gmail.com')],
      ph: [sha('4915123456789')],
      external_id: [sha('led_abc123'), sha('shopify:cust-9')],
      client_ip_address: '203.0.113.7',
      client_user_agent: 'Mozilla/5.0',
      fbp: 'fb.1.1596403881668.1116446470',
    });
  });

  it('without fbp nothing stands for it; nothing to match on is refused; the 7-day rule holds', () => {
    const built = buildMetaEvent(
      metaEventInput({ conversion: metaConversion, lead: lead() }),
      { limitedDataUse: false },
      NOW,
    );
    if (built.kind !== 'event') throw new Error(JSON.stringify(built));
    expect(built.event.user_data.fbp).toBeUndefined();
    expect(built.event.user_data.em).toHaveLength(1);
    expect(
      buildMetaEvent(
        metaEventInput({ conversion: metaConversion, lead: lead({ email: '', phone: '' }) }),
        { limitedDataUse: false },
        NOW,
      ),
    ).toEqual({ kind: 'invalid', reason: 'No click id, and no e-mail or phone to match on' });
    expect(
      buildMetaEvent(
        metaEventInput({
          conversion: { ...metaConversion, conversion_time: '2026-11-10T00:00:00Z' },
          lead: rich,
        }),
        { limitedDataUse: false },
        NOW,
      ),
    ).toMatchObject({ kind: 'invalid', reason: expect.stringMatching(/within 7 days/) });
  });

  it('a click_id conversion still carries fbc built from the fbclid and the click time', () => {
    const built = buildMetaEvent(
      metaEventInput({
        conversion: { ...metaConversion, match: 'click_id', click_id_type: 'fbclid', click_id: fbclid(3) },
        lead: lead({ click_time: '2026-11-24T07:00:00.000Z' }),
      }),
      { limitedDataUse: false },
      NOW,
    );
    expect(built.kind === 'event' && built.event.user_data.fbc).toBe(
      `fb.1.${Date.parse('2026-11-24T07:00:00.000Z')}.${fbclid(3)}`,
    );
  });
});

describe('GET /api/v1/integrations items', () => {
  it('every connection with its status, reason and settings, nothing secret', () => {
    const google = {
      customer_id: '1234567890',
      conversion_action_id: '555',
      client_id: 'client',
      time_zone: 'UTC',
      status: 'needs_configuration',
      status_reason: 'not enabled',
      updated_at: '2026-11-25T10:00:00.000Z',
      sealed_client_secret: 'SEALED-1',
      sealed_refresh_token: 'SEALED-2',
    } satisfies StoredGoogleAdsIntegration;
    const meta = {
      pixel_id: '123456789012',
      lead_events: false,
      limited_data_use: false,
      status: 'connected',
      status_reason: 'stale reason of an earlier disconnect',
      updated_at: '2026-11-25T10:00:00.000Z',
      sealed_access_token: 'SEALED-3',
    } satisfies StoredMetaIntegration;
    const items = integrationsOverview({
      googleAds: google,
      meta,
      sources: {
        shopify: { shop_domain: 'acme.myshopify.com', source_key: 'acme.myshopify.com', updated_at: 'x' },
        ghl: { consent_field_id: 'F1', source_key: 'HASH-OF-TOKEN', updated_at: 'y' },
      },
    });
    expect(items).toEqual([
      {
        kind: 'google_ads',
        status: 'needs_configuration',
        status_reason: 'not enabled',
        updated_at: '2026-11-25T10:00:00.000Z',
        customer_id: '1234567890',
        conversion_action_id: '555',
        client_id: 'client',
        time_zone: 'UTC',
        enhanced_conversions_for_leads: false,
      },
      {
        kind: 'meta',
        status: 'connected',
        updated_at: '2026-11-25T10:00:00.000Z',
        pixel_id: '123456789012',
        lead_events: false,
        limited_data_use: false,
        match_by_user_data: true,
      },
      { kind: 'shopify', status: 'connected', updated_at: 'x', shop_domain: 'acme.myshopify.com' },
      { kind: 'ghl', status: 'connected', updated_at: 'y', consent_field_id: 'F1' },
    ]);
    expect(JSON.stringify(items)).not.toMatch(/SEALED|HASH-OF-TOKEN/);
    expect(integrationsOverview({ sources: {} })).toEqual([]);
  });
});
