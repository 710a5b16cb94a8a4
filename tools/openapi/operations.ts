/**
 * What the OpenAPI document says about each route of the route table, keyed by `METHOD path`:
 * path parameters, query, request body (the schema the handler validates with) and the success
 * responses. Error responses follow from the route's auth kind and inputs (see document.ts);
 * `errors` adds the ones particular to a route. A route of the table without an entry here fails
 * the OpenAPI test and the document build.
 */
import * as z from 'zod/mini';
import {
  adjustmentBody,
  adjustmentResponse,
  conversionQueuedResponse,
  createConversionBody,
  listConversionsQuery,
} from '../../functions/shared/features/conversions/schema';
import { patchSubjectBody, subjectLookupBody } from '../../functions/shared/features/gdpr/service';
import {
  ghlSettingsBody,
  shopifySettingsBody,
  wooCommerceSettingsBody,
} from '../../functions/shared/features/integrations/schema';
import {
  consentSchema,
  leadArray,
  leadSchema,
  listLeadsQuery,
  patchLeadBody,
} from '../../functions/shared/features/leads/schema';
import {
  consentPolicyBody,
  createApiKeyBody,
  createTenantBody,
  retentionBody,
  updateTenantBody,
} from '../../functions/shared/features/tenancy/schema';
import { dlqQuery, redriveBody } from '../../functions/shared/platform/queues/schemas';
import { googleAdsSettingsBody } from '../../functions/shared/providers/google-ads/integration';
import { metaSettingsBody } from '../../functions/shared/providers/meta/integration';
import {
  billingPortalBody,
  billingPortalResponse,
  billingStatusResponse,
} from '../../functions/shared/providers/stripe/schema';
import * as res from './schemas';

export interface ResponseSpec {
  readonly description: string;
  /** No schema: an empty body (204). */
  readonly schema?: z.ZodMiniType;
  readonly example?: unknown;
  /** Headers beyond the ones every response carries, e.g. `Location`. */
  readonly headers?: readonly ('Location' | 'Retry-After' | 'ETag' | 'Cache-Control')[];
  /** The body's media type when it is not JSON. */
  readonly mediaType?: string;
}

export interface ParameterSpec {
  readonly description: string;
  readonly schema?: z.ZodMiniType;
}

export interface OperationSpec {
  readonly description?: string;
  readonly params?: Readonly<Record<string, ParameterSpec>>;
  /** An object schema; each property becomes a query parameter. */
  readonly query?: z.ZodMiniObject;
  /** `limit` and `cursor` of a cursor-paginated list. */
  readonly paginated?: boolean;
  readonly body?: {
    readonly schema: z.ZodMiniType;
    readonly description: string;
    readonly example: unknown;
  };
  readonly responses: Readonly<Record<number, ResponseSpec>>;
  /** Error statuses particular to this route, beyond those its auth kind and inputs imply. */
  readonly errors?: readonly number[];
}

/** The answer of a list: a page of `item`s, its example (if any) a page of that one item. */
const pageOf = (
  description: string,
  item: z.ZodMiniType,
  example?: unknown,
): Record<number, ResponseSpec> => ({
  200: {
    description,
    schema: res.page(item),
    ...(example === undefined ? {} : { example: { items: [example], next_cursor: null } }),
  },
});

const id = (what: string): ParameterSpec => ({
  description: `The ${what} id`,
  schema: z.string().check(z.minLength(1)),
});
const subject: ParameterSpec = {
  description:
    "The tenant's opaque subject id of a person, from POST /api/v1/gdpr/subjects (never the email)",
  schema: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
};
const subjectIdExample = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';

/** A provider's payload: the handler verifies the signature over the raw bytes before reading it. */
const webhookBody = (provider: string, example: unknown) => ({
  schema: z.looseObject({}),
  description:
    `${provider}'s JSON payload, unchanged: the signature is computed over the raw bytes. A header the ` +
    'sender sets that is longer than the sender ever sends, or not in its format, is 400 validation_failed ' +
    'naming it (`headers.<name>`); a signature that does not verify is 401.',
  example,
});

const received = {
  202: {
    description: 'Verified and durably queued',
    schema: res.webhookReceived,
    example: { status: 'received', id: 'whk_01hx3k1v2m9d4c8q7r5t6y0z1a' },
  },
} as const;

const leadExample = {
  email: 'jane@example.org',
  gclid: 'Cj0KCQiA4L67BhDUARIsADWrl7HUxZ2bQyQk7zR6Sx0',
  value: 120,
  currency: 'EUR',
  consent: { status: 'granted', method: 'form_checkbox', timestamp: '2026-11-25T10:00:00Z' },
};
const timestamps = { created_at: '2026-11-25T10:00:01Z', updated_at: '2026-11-25T10:00:01Z' };
const storedLeadExample = {
  id: 'lead_01hx3k1v2m9d4c8q7r5t6y0z1a',
  ...leadExample,
  status: 'new',
  consent: { ...leadExample.consent, ad_user_data: 'granted', ad_personalization: 'granted' },
  consent_history: [],
  restricted: false,
  ...timestamps,
};
const conversionExample = {
  id: 'conv_01hx3k1v2m9d4c8q7r5t6y0z1b',
  lead_id: storedLeadExample.id,
  platform: 'google_ads',
  status: 'uploaded',
  attempts: 1,
  order_id: '1001',
  conversion_time: '2026-11-25T12:00:00Z',
  value: 120,
  currency: 'EUR',
  match: 'user_data',
  ...timestamps,
};
const apiKeyExample = {
  id: 'key_01hx3k1v2m9d4c8q7r5t6y0z1c',
  tenant_id: 'ten_01hx3k1v2m9d4c8q7r5t6y0z1d',
  name: 'crm',
  role: 'member',
  prefix: 'ae_3k1v',
  created_at: '2026-11-25T10:00:00Z',
  created_by: { subject: 'user-7f3a', role: 'admin', via: 'tenant' },
};
const tenantExample = {
  id: 'ten_01hx3k1v2m9d4c8q7r5t6y0z1d',
  name: 'Acme Agency',
  status: 'active',
  created_at: '2026-11-25T10:00:00Z',
};
const backupExample = {
  id: 'bkp_01hx3k1v2m9d4c8q7r5t6y0z1e',
  status: 'queued',
  trigger: 'api',
  requested_by: 'operator:platform',
  attempts: 0,
  ...timestamps,
};

export const OPERATIONS: Readonly<Record<string, OperationSpec>> = {
  'GET /health': {
    description: 'Database, queues and external APIs; an open circuit degrades, it does not fail.',
    responses: {
      200: {
        description: 'Healthy or degraded',
        schema: res.healthResponse,
        example: {
          status: 'healthy',
          timestamp: '2026-11-25T10:00:00Z',
          version: '0.1.0',
          checks: { database: { status: 'pass', latency_ms: 12 } },
        },
      },
      503: { description: 'Unhealthy: a required dependency fails', schema: res.healthResponse },
    },
  },
  'GET /api/v1/openapi.json': {
    description: 'This document: generated from the route table and the schemas that validate requests.',
    responses: { 200: { description: 'The OpenAPI 3.1 document', schema: res.openApiDocument } },
  },
  'GET /api/v1/storefront.js': {
    description:
      "Dependency-free JavaScript, at most 3 KB gzipped, for a Shopify theme (docs/storefront.md). It keeps the latest ad click (gclid, gbraid, wbraid, fbclid, click time, landing page) in a first-party cookie for 90 days and writes it, Meta's _fbp and the visitor's consent from Shopify's Customer Privacy API into the cart's attributes (consent_status, consent_timestamp, consent_method, ad_user_data, ad_personalization, gclid, gbraid, wbraid, fbclid, fbp, click_time, landing_page), which orders carry as note_attributes. Nothing is stored or written before consent where consent is required; it calls nothing but the shop's own cart. Cacheable: send the ETag back in If-None-Match for a 304.",
    responses: {
      200: {
        description: 'The script',
        schema: res.storefrontScript,
        mediaType: 'text/javascript',
        headers: ['ETag', 'Cache-Control'],
      },
      304: {
        description: 'Not modified: If-None-Match names the current ETag',
        headers: ['ETag', 'Cache-Control'],
      },
    },
  },
  'POST /api/v1/auth/token': {
    description: "The token carries the key's tenant and role and expires in at most 15 minutes.",
    responses: {
      200: {
        description: 'A signed access token',
        schema: res.tokenResponse,
        example: { access_token: 'eyJhbGciOiJIUzI1NiJ9.e30.c2ln', token_type: 'Bearer', expires_in: 900 },
      },
    },
  },
  'GET /api/v1/api-keys': {
    description: "The keys whose role is at most the caller's: an admin does not see an owner's keys.",
    responses: pageOf("The tenant's API keys", res.apiKeyRecord, apiKeyExample),
  },
  'POST /api/v1/api-keys': {
    description:
      'Keys are made by people: a token exchanged for an API key is refused (403), so revoking a key ends ' +
      'everything it made. The key records who made it (`created_by`).',
    body: {
      schema: createApiKeyBody,
      description: "A key's name and role (at most the caller's)",
      example: { name: 'crm', role: 'member' },
    },
    responses: {
      201: {
        description: 'The key, shown this once; only its SHA-256 is stored',
        schema: res.createdApiKey,
        example: { ...apiKeyExample, key: 'ae_3k1v2m9d4c8q7r5t6y0z1aBcDeFgHiJkLmNoPq' },
      },
    },
  },
  'DELETE /api/v1/api-keys/{id}': {
    description:
      "The key stops at once, the tokens exchanged for it within a minute. A key above the caller's role, or " +
      "another tenant's, is 404.",
    params: { id: id('API key') },
    responses: { 204: { description: 'Revoked' } },
  },
  'GET /api/v1/integrations': {
    description:
      'Every integration the tenant connected, one item each: `kind` (`google_ads`, `meta`, `shopify`, `woocommerce`, `ghl`), `status` (`connected`; `needs_reconnect`: connect Google Ads again, its conversions wait; `needs_configuration`: Google refused conversions matched on user data for the account settings, fix them and save the integration again; `disconnected`: a refused token or revoked access), `status_reason` when it is not connected, `updated_at`, and the settings the PUT route answered (never a secret).',
    responses: {
      200: {
        description: "The tenant's integrations",
        schema: res.integrationsList,
        example: {
          items: [
            {
              kind: 'google_ads',
              status: 'needs_configuration',
              status_reason:
                'The Google Ads account is not enabled for enhanced conversions for leads: turn it on in Google Ads (Goals > Settings), then save the Google Ads integration again (DESTINATION_ACCOUNT_NOT_ENABLED_ENHANCED_CONVERSIONS_FOR_LEADS)',
              updated_at: '2026-11-25T10:00:00Z',
              customer_id: '1234567890',
              conversion_action_id: '555000111',
              client_id: '1234.apps.googleusercontent.com',
              time_zone: 'Europe/Berlin',
              enhanced_conversions_for_leads: true,
            },
            {
              kind: 'meta',
              status: 'connected',
              updated_at: '2026-11-25T10:00:00Z',
              pixel_id: '123456789012345',
              lead_events: false,
              limited_data_use: false,
              match_by_user_data: true,
            },
            {
              kind: 'shopify',
              status: 'connected',
              updated_at: '2026-11-25T10:00:00Z',
              shop_domain: 'acme.myshopify.com',
            },
          ],
        },
      },
    },
  },
  'PUT /api/v1/integrations/shopify': {
    body: {
      schema: shopifySettingsBody,
      description: 'The shop domain and the webhook secret (write-only)',
      example: { shop_domain: 'acme.myshopify.com', webhook_secret: 'shpss_0123456789abcdef' },
    },
    responses: {
      200: {
        description: 'The stored settings (never the secret) and the URL to register in Shopify',
        schema: res.shopifySettings,
        example: {
          shop_domain: 'acme.myshopify.com',
          updated_at: '2026-11-25T10:00:00Z',
          webhook_url: 'https://api.adsengineer.example/api/v1/shopify/webhook',
        },
      },
    },
    errors: [409],
  },
  'PUT /api/v1/integrations/woocommerce': {
    body: {
      schema: wooCommerceSettingsBody,
      description: 'The store URL and the webhook secret (write-only)',
      example: { store_url: 'https://shop.acme.example', webhook_secret: 'wc_0123456789abcdef' },
    },
    responses: {
      200: {
        description: 'The stored settings (never the secret) and the URL to register in WooCommerce',
        schema: res.wooCommerceSettings,
      },
    },
    errors: [409],
  },
  'PUT /api/v1/integrations/google-ads': {
    body: {
      schema: googleAdsSettingsBody,
      description: 'Account ids (ten digits), the OAuth client and a refresh token (secrets write-only)',
      example: {
        customer_id: '1234567890',
        conversion_action_id: '555000111',
        client_id: '1234.apps.googleusercontent.com',
        client_secret: 'GOCSPX-secret',
        refresh_token: '1//0refresh',
        currency: 'EUR',
        time_zone: 'Europe/Berlin',
        enhanced_conversions_for_leads: true,
      },
    },
    responses: {
      200: {
        description:
          'The stored settings, secrets left out. Saving again after Google refused conversions matched on user data (status needs_configuration) queues the conversions that waited',
        schema: res.googleAdsSettings,
        example: {
          customer_id: '1234567890',
          conversion_action_id: '555000111',
          client_id: '1234.apps.googleusercontent.com',
          currency: 'EUR',
          time_zone: 'Europe/Berlin',
          enhanced_conversions_for_leads: true,
          status: 'connected',
          updated_at: '2026-11-25T10:00:00Z',
        },
      },
    },
  },
  'PUT /api/v1/integrations/meta': {
    body: {
      schema: metaSettingsBody,
      description: 'The pixel (dataset) id and a Conversions API access token (write-only)',
      example: {
        pixel_id: '123456789012345',
        access_token: 'EAAGm0PX4ZCpsBAExampleToken0123456789',
        lead_events: true,
      },
    },
    responses: {
      200: {
        description: 'The stored settings, the token left out',
        schema: res.metaSettings,
        example: {
          pixel_id: '123456789012345',
          lead_events: true,
          limited_data_use: false,
          match_by_user_data: true,
          status: 'connected',
          updated_at: '2026-11-25T10:00:00Z',
        },
      },
    },
  },
  'GET /api/v1/integrations/google-ads/oauth/start': {
    responses: {
      302: {
        description: "Redirect to Google's consent screen; the same URL is in the body",
        schema: res.oauthRedirect,
        headers: ['Location'],
      },
    },
  },
  'GET /api/v1/integrations/google-ads/oauth/callback': {
    description: 'Authenticated by the signed, expiring, single-use `state` this API issued in oauth/start.',
    query: z.object({
      state: z.optional(z.string()),
      code: z.optional(z.string()),
      error: z.optional(z.string()),
    }),
    responses: {
      200: { description: 'Connected: the stored settings, secrets left out', schema: res.googleAdsSettings },
    },
    errors: [404],
  },
  'PUT /api/v1/integrations/ghl': {
    body: {
      schema: ghlSettingsBody,
      description:
        'Optionally the id of the contact custom field that holds consent and the values meaning granted (default yes, true, granted, 1, opt-in; case-insensitive; any other value present means denied). Each call issues a new URL token',
      example: { consent_field_id: 'BcdmQEsNgz6AVpgLVUJ0', granted_values: ['yes', 'opt-in'] },
    },
    responses: {
      200: {
        description:
          'The stored settings and the webhook URL holding the tenant token, shown once; it replaces the previous one',
        schema: res.ghlSettings,
      },
    },
  },
  'GET /api/v1/settings/consent': {
    responses: {
      200: {
        description: "The tenant's consent policy; `explicit` (without updated_at) until one is set",
        schema: res.consentPolicySettings,
      },
    },
  },
  'PUT /api/v1/settings/consent': {
    body: {
      schema: consentPolicyBody,
      description: 'The consent policy lead capture applies from now on (within 30 seconds)',
      example: { policy: 'regional' },
    },
    responses: {
      200: { description: 'The stored policy', schema: res.consentPolicySettings },
    },
  },
  'GET /api/v1/settings/retention': {
    responses: {
      200: {
        description:
          "The tenant's retention; 400 days for leads and for conversions (without updated_at) until one is set",
        schema: res.retentionSettings,
      },
    },
  },
  'PUT /api/v1/settings/retention': {
    body: {
      schema: retentionBody,
      description:
        'Applies to every lead and conversion from its next change (within 30 seconds); items keep the expiry set at their last change until then',
      example: { leads_days: 180, conversions_days: 400 },
    },
    responses: {
      200: { description: 'The stored retention', schema: res.retentionSettings },
    },
  },
  'POST /api/v1/shopify/webhook': {
    body: webhookBody('Shopify', {
      id: 820982911946154500,
      email: 'jane@example.org',
      total_price: '120.00',
    }),
    responses: {
      ...received,
      200: {
        description:
          'A mandatory compliance topic (`customers/data_request`, `customers/redact`, `shop/redact`), verified and durably queued',
        schema: res.webhookReceived,
        example: { status: 'received', id: 'whk_01hx3k1v2m9d4c8q7r5t6y0z1a' },
      },
    },
  },
  'POST /api/v1/woocommerce/webhook': {
    body: webhookBody('WooCommerce', { id: 727, status: 'processing', total: '120.00' }),
    responses: {
      ...received,
      200: {
        description: "WooCommerce's creation ping (`webhook_id=` form body), acknowledged",
        schema: res.webhookAcknowledged,
      },
    },
  },
  'POST /api/v1/ghl/webhook/{webhookToken}': {
    params: {
      webhookToken: {
        description: "The tenant's URL token from PUT /api/v1/integrations/ghl; logged only as the template",
        schema: z.string().check(z.minLength(1)),
      },
    },
    body: webhookBody('GoHighLevel', { type: 'ContactCreate', email: 'jane@example.org' }),
    responses: received,
  },
  'POST /api/v1/billing/webhooks/stripe': {
    body: webhookBody('Stripe', { id: 'evt_1', type: 'customer.subscription.updated' }),
    responses: received,
  },
  'POST /api/v1/leads': {
    body: {
      schema: z.union([leadSchema, leadArray]),
      description:
        'One lead, or an array of 1 to 100; one invalid lead rejects the request. A lead has at most one of gclid, gbraid and wbraid.',
      example: leadExample,
    },
    responses: {
      201: {
        description: 'At least one lead stored',
        schema: res.captureResult,
        example: {
          success: true,
          processed: 1,
          stored: 1,
          denied: 0,
          lead_ids: [storedLeadExample.id],
          denied_leads: [],
        },
      },
      200: { description: 'No lead stored: every lead lacked consent', schema: res.captureResult },
    },
  },
  'GET /api/v1/leads': {
    query: listLeadsQuery,
    paginated: true,
    responses: pageOf('Leads, newest first', res.lead, storedLeadExample),
  },
  'GET /api/v1/leads/{id}': {
    params: { id: id('lead') },
    responses: { 200: { description: 'The lead', schema: res.lead, example: storedLeadExample } },
  },
  'PATCH /api/v1/leads/{id}': {
    params: { id: id('lead') },
    body: {
      schema: patchLeadBody,
      description: 'The new status (new → contacted → qualified → won | lost), and for won the order',
      example: { status: 'won', order_id: '1001', value: 120, currency: 'EUR' },
    },
    responses: {
      200: {
        description: 'The updated lead and the conversions won queued',
        schema: res.patchedLead,
      },
    },
    errors: [409],
  },
  'GET /api/v1/billing': {
    responses: {
      200: {
        description: "The tenant's subscription as last confirmed with Stripe",
        schema: billingStatusResponse,
        example: {
          status: 'active',
          subscription_id: 'sub_1QExample',
          current_period_end: '2026-12-25T00:00:00.000Z',
          cancel_at_period_end: false,
          portal_available: true,
          updated_at: '2026-11-25T10:00:00.000Z',
        },
      },
    },
    errors: [404],
  },
  'POST /api/v1/billing/portal': {
    body: {
      schema: billingPortalBody,
      description: 'Where Stripe sends the user back (optional)',
      example: { return_url: 'https://app.acme.example/settings/billing' },
    },
    responses: {
      200: {
        description: 'A Stripe billing-portal session',
        schema: billingPortalResponse,
        example: { url: 'https://billing.stripe.com/p/session/test_123' },
      },
    },
    errors: [404],
  },
  'POST /api/v1/conversions': {
    description:
      'By lead: one conversion per ad platform the lead has a click id for (`match: click_id`), and, for a connected platform it has none for, one matched on its hashed e-mail and phone (`match: user_data`) when the integration allows it (Google Ads `enhanced_conversions_for_leads`, Meta `match_by_user_data`), `ad_user_data` is granted (or consent is not required) and the lead has an e-mail or phone. By click id: a Google Ads conversion of that click, or a Meta conversion of an fbclid. The same lead or order again answers 200 with the existing conversion. Refused with 400 beyond what the schema says: a lead with no click id of an ad platform and no conversion matched on user data (the details say why for each connected platform); a Google Ads conversion more than 90 days old, before its click or in the future; a Meta conversion more than 7 days old or in the future.',
    body: {
      schema: createConversionBody,
      description:
        '`{lead_id, ...sale}`, `{gclid|gbraid|wbraid, conversion_time, ...sale}` with exactly one of gclid, gbraid and wbraid, or `{fbclid, conversion_time, event_name?, ...sale}`',
      example: { lead_id: storedLeadExample.id, value: 120, currency: 'EUR', order_id: '1001' },
    },
    responses: {
      202: {
        description: 'Queued for upload',
        schema: conversionQueuedResponse,
        example: { id: conversionExample.id, status: 'queued', platform: 'google_ads' },
      },
      200: { description: 'Already captured: the existing conversion', schema: res.conversion },
    },
    errors: [404, 409],
  },
  'POST /api/v1/conversions/{id}/adjustments': {
    params: { id: id('conversion') },
    body: {
      schema: adjustmentBody,
      description:
        'Retract the conversion (a retraction takes no value), or restate the value that counts now (a restatement needs the value)',
      example: { type: 'restatement', value: 80, currency: 'EUR' },
    },
    responses: {
      202: {
        description: 'Queued for upload to Google Ads',
        schema: adjustmentResponse,
        example: {
          id: 'adj_01hx3k1v2m9d4c8q7r5t6y0z1f',
          conversion_id: conversionExample.id,
          type: 'restatement',
          status: 'queued',
          value: 80,
          currency: 'EUR',
          created_at: '2026-11-26T10:00:00Z',
        },
      },
      200: { description: 'The same adjustment again: the existing one', schema: adjustmentResponse },
    },
    errors: [409],
  },
  'GET /api/v1/conversions': {
    query: listConversionsQuery,
    paginated: true,
    responses: pageOf('Conversions with their upload status', res.conversion, conversionExample),
  },
  'GET /api/v1/conversions/{id}': {
    params: { id: id('conversion') },
    responses: { 200: { description: 'The conversion', schema: res.conversion, example: conversionExample } },
  },
  'POST /api/v1/gdpr/subjects': {
    description:
      'The same email always gives the same id in a tenant, and the answer is the same whether or not data is held.',
    body: {
      schema: subjectLookupBody,
      description: "The person's email address",
      example: { email: 'jane@example.org' },
    },
    responses: {
      200: {
        description: 'The subject id to use in the data-subject routes',
        schema: res.subjectLookup,
        example: { subject_id: subjectIdExample },
      },
    },
  },
  'GET /api/v1/gdpr/subjects/{subject_id}': {
    params: { subject_id: subject },
    responses: {
      200: { description: 'Everything held for the subject in this tenant', schema: res.subjectExport },
    },
  },
  'DELETE /api/v1/gdpr/subjects/{subject_id}': {
    params: { subject_id: subject },
    responses: {
      200: {
        description:
          'Erased: tombstones recorded, leads deleted, conversions stripped, queued uploads cancelled, dead-lettered deliveries naming the subject deleted; the report says what was removed where',
        schema: res.subjectErased,
        example: {
          erased: true,
          subject_id: '5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592',
          erased_at: '2026-12-07T20:00:00.000Z',
          leads: 1,
          conversions: 1,
          removed: { leads: 1, conversions_stripped: 1, dead_letters: 1 },
          identities_tombstoned: 3,
          dead_letters: { queue: 'webhooks', scanned: 4, purged: 1, complete: true },
          kept: {
            audit_trail: 'keyed hash of the subject only',
            tombstones: 'keyed hashes of the erased identities and the erasure time',
            backups:
              'encrypted and immutable until they expire; a restore drops this subject and anything created before this erasure',
          },
        },
      },
    },
  },
  'PATCH /api/v1/gdpr/subjects/{subject_id}': {
    params: { subject_id: subject },
    body: {
      schema: patchSubjectBody,
      description: 'Fields to rectify, and/or `restricted`',
      example: { phone: '+4915112345678', restricted: true },
    },
    responses: { 200: { description: 'What changed', schema: res.subjectPatched } },
  },
  'POST /api/v1/gdpr/subjects/{subject_id}/consent': {
    params: { subject_id: subject },
    body: {
      schema: consentSchema,
      description: 'The new consent of the subject, applied to each of its leads',
      example: { status: 'withdrawn', method: 'api_call', timestamp: '2026-11-26T09:00:00Z' },
    },
    responses: { 200: { description: 'Consent recorded', schema: res.subjectConsent } },
  },
  'GET /api/v1/gdpr/audit': {
    query: z.object({ subject_id: z.optional(z.string().check(z.regex(/^[0-9a-f]{64}$/))) }),
    paginated: true,
    responses: pageOf('Audit records, newest first', res.auditRecord),
  },
  'GET /api/v1/admin/dlq': {
    query: dlqQuery,
    responses: pageOf('Dead-lettered messages (never their payloads)', res.deadLetter),
  },
  'POST /api/v1/admin/dlq/redrive': {
    body: {
      schema: redriveBody,
      description: 'The queue and at most how many',
      example: { queue: 'webhooks', max: 100 },
    },
    responses: {
      200: {
        description: 'How many moved, and how many were dropped because their person was erased since',
        schema: res.redriveResult,
        example: { queue: 'webhooks', moved: 3, dropped: 1 },
      },
    },
  },
  'POST /api/v1/admin/tenants': {
    body: { schema: createTenantBody, description: "The tenant's name", example: { name: 'Acme Agency' } },
    responses: { 201: { description: 'The tenant', schema: res.tenant, example: tenantExample } },
  },
  'GET /api/v1/admin/tenants': {
    paginated: true,
    responses: pageOf('Tenants', res.tenant, tenantExample),
  },
  'GET /api/v1/admin/tenants/{id}': {
    params: { id: id('tenant') },
    responses: { 200: { description: 'The tenant', schema: res.tenant, example: tenantExample } },
  },
  'PATCH /api/v1/admin/tenants/{id}': {
    description:
      "Suspending stops the tenant's API keys at once and its tokens within a minute (401); reactivating " +
      'lets them work again. Each change is kept in the tenant status history with who made it.',
    params: { id: id('tenant') },
    body: {
      schema: updateTenantBody,
      description: 'The new status',
      example: { status: 'suspended' },
    },
    responses: {
      200: {
        description: 'The tenant with its new status',
        schema: res.tenant,
        example: { ...tenantExample, status: 'suspended', status_changed_at: '2026-11-26T09:00:00Z' },
      },
    },
  },
  'POST /api/v1/admin/tenants/{id}/api-keys': {
    params: { id: id('tenant') },
    body: {
      schema: createApiKeyBody,
      description: "The key's name and role",
      example: { name: 'crm', role: 'admin' },
    },
    responses: { 201: { description: 'The key, shown this once', schema: res.createdApiKey } },
  },
  'DELETE /api/v1/admin/tenants/{id}/api-keys/{keyId}': {
    params: { id: id('tenant'), keyId: id('API key') },
    responses: { 204: { description: 'Revoked' } },
  },
  'POST /api/v1/admin/backups': {
    description: 'Answers 503 backup_encryption_required when no backup key is configured.',
    responses: {
      202: { description: 'Queued', schema: res.backupJob, example: backupExample, headers: ['Location'] },
    },
  },
  'GET /api/v1/admin/backups': {
    paginated: true,
    responses: pageOf('Backup jobs, newest first', res.backupJob),
  },
  'GET /api/v1/admin/backups/{id}': {
    params: { id: id('backup job') },
    responses: { 200: { description: 'The job', schema: res.backupJob, example: backupExample } },
  },
};
