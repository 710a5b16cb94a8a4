/**
 * Response bodies as the API sends them, for the OpenAPI document. Request bodies are not
 * declared here: the document takes them from the schemas the handlers validate with.
 * Objects are open (`looseObject`): adding a field is a backward-compatible change, while a
 * missing or mistyped documented field fails the end-to-end tests (`test/support/contract.ts`).
 */
import * as z from 'zod/mini';
import { ROLES } from '../../contract/routes';
import {
  CONVERSION_STATUSES,
  MATCH_KINDS,
  PLATFORMS,
} from '../../functions/shared/features/conversions/model';
import { AUDIT_ACTIONS } from '../../functions/shared/features/gdpr/model';
import {
  INTEGRATION_KINDS,
  INTEGRATION_STATUSES,
} from '../../functions/shared/features/integrations/service';
import {
  CONSENT_METHODS,
  CONSENT_STATUSES,
  SIGNALS,
} from '../../functions/shared/features/leads/rules/consent';
import { CONSENT_POLICIES } from '../../functions/shared/features/leads/rules/consent-policy';
import { LEAD_STATUSES } from '../../functions/shared/features/leads/schema';

const text = z.string();
const timestamp = z.iso.datetime({ offset: true });
const count = z.int().check(z.minimum(0));
const cursor = z.nullable(z.string());

/** `{items, next_cursor}` of a cursor-paginated list. */
export const page = <T extends z.ZodMiniType>(item: T) =>
  z.looseObject({ items: z.array(item), next_cursor: cursor });

export const errorResponse = z.looseObject({
  error: z.string().check(z.regex(/^[a-z][a-z0-9_]*$/)),
  message: text,
  request_id: text,
  details: z.optional(z.array(z.looseObject({ path: text, message: text }))),
  retry_after: z.optional(count),
  code: z.optional(text),
});

export const healthResponse = z.looseObject({
  status: z.enum(['healthy', 'degraded', 'unhealthy']),
  timestamp,
  version: text,
  checks: z.record(
    z.string(),
    z.looseObject({
      status: text,
      latency_ms: z.optional(z.number()),
      detail: z.optional(text),
      circuit: z.optional(z.enum(['closed', 'open', 'half_open'])),
      last_success_at: z.optional(timestamp),
    }),
  ),
});

export const tokenResponse = z.looseObject({
  access_token: text,
  token_type: z.literal('Bearer'),
  expires_in: count,
});

export const apiKeyRecord = z.looseObject({
  id: text,
  tenant_id: text,
  name: text,
  role: z.enum(ROLES),
  prefix: text,
  created_at: timestamp,
  created_by: z.optional(
    z.looseObject({ subject: text, role: z.enum(ROLES), via: z.enum(['tenant', 'platform']) }),
  ),
  last_used_at: z.optional(timestamp),
  revoked_at: z.optional(timestamp),
});
export const createdApiKey = z.looseObject({ ...apiKeyRecord.shape, key: text });

const webhookUrl = z.url({ protocol: /^https?$/ });
export const shopifySettings = z.looseObject({
  shop_domain: text,
  webhook_url: webhookUrl,
  updated_at: timestamp,
});
export const wooCommerceSettings = z.looseObject({
  store_url: text,
  webhook_url: webhookUrl,
  updated_at: timestamp,
});
export const ghlSettings = z.looseObject({
  webhook_url: webhookUrl,
  updated_at: timestamp,
  consent_field_id: z.optional(text),
  granted_values: z.optional(z.array(text)),
});
export const consentPolicySettings = z.looseObject({
  policy: z.enum(CONSENT_POLICIES),
  updated_at: z.optional(timestamp),
});
export const retentionSettings = z.looseObject({
  leads_days: z
    .number()
    .check(z.int(), z.meta({ description: 'Days leads are kept after their last change', examples: [400] })),
  conversions_days: z
    .number()
    .check(
      z.int(),
      z.meta({ description: 'Days conversions are kept after their last change', examples: [400] }),
    ),
  audit_days: z.number().check(
    z.int(),
    z.meta({
      description:
        'Days each consent and data-subject-request audit entry is kept (fixed for every tenant); entries hold the subject id, never an email address',
      examples: [2190],
    }),
  ),
  updated_at: z.optional(timestamp),
});
export const googleAdsSettings = z.looseObject({
  customer_id: z.string().check(z.regex(/^\d{10}$/)),
  conversion_action_id: text,
  login_customer_id: z.optional(text),
  client_id: text,
  currency: z.optional(text),
  time_zone: text,
  enhanced_conversions_for_leads: z.boolean(),
  status: z.enum(['connected', 'disconnected', 'needs_reconnect', 'needs_configuration']),
  status_reason: z.optional(text),
  updated_at: z.optional(timestamp),
});
export const metaSettings = z.looseObject({
  pixel_id: z.string().check(z.regex(/^\d{5,20}$/)),
  test_event_code: z.optional(text),
  lead_events: z.boolean(),
  limited_data_use: z.boolean(),
  match_by_user_data: z.boolean(),
  status: z.enum(['connected', 'disconnected']),
  status_reason: z.optional(text),
  updated_at: timestamp,
});
export const integrationsList = z.looseObject({
  items: z.array(
    z.looseObject({
      kind: z.enum(INTEGRATION_KINDS),
      status: z.enum(INTEGRATION_STATUSES),
      status_reason: z.optional(text),
      updated_at: text,
    }),
  ),
});
export const oauthRedirect = z.looseObject({ authorization_url: z.url({ protocol: /^https$|^http$/ }) });

export const webhookReceived = z.looseObject({ status: z.literal('received'), id: text });
export const webhookAcknowledged = z.looseObject({ status: z.literal('ok') });

const consent = z.looseObject({
  status: z.enum([...CONSENT_STATUSES, 'not_required']),
  basis: z.optional(z.literal('regional_policy')),
  country: z.optional(z.string().check(z.regex(/^[A-Z]{2}$/))),
  timestamp: z.optional(timestamp),
  method: z.optional(z.enum(CONSENT_METHODS)),
  ad_user_data: z.optional(z.enum(SIGNALS)),
  ad_personalization: z.optional(z.enum(SIGNALS)),
});
const consentChange = z.looseObject({
  ...consent.shape,
  recorded_at: timestamp,
  source: z.enum(['capture', 'api', 'webhook']),
});

export const lead = z.looseObject({
  id: text,
  email: text,
  status: z.enum(LEAD_STATUSES),
  consent,
  consent_history: z.array(consentChange),
  restricted: z.boolean(),
  phone: z.optional(text),
  gclid: z.optional(text),
  gbraid: z.optional(text),
  wbraid: z.optional(text),
  fbclid: z.optional(text),
  msclkid: z.optional(text),
  value: z.optional(z.number()),
  currency: z.optional(text),
  external_id: z.optional(text),
  conversions_not_planned: z.optional(
    z
      .array(z.looseObject({ platform: z.enum(PLATFORMS), reason: text }))
      .check(
        z.describe(
          'Set when the lead was last won: each connected ad platform that got no conversion from it, and why',
        ),
      ),
  ),
  created_at: timestamp,
  updated_at: timestamp,
});

export const captureResult = z.looseObject({
  success: z.boolean(),
  processed: count,
  stored: count,
  denied: count,
  lead_ids: z.array(text),
  denied_leads: z.array(z.looseObject({ index: count, email: text, reason: text })),
});

const conversionRef = z.looseObject({
  id: text,
  platform: z.enum(PLATFORMS),
  status: z.enum(CONVERSION_STATUSES),
});
export const patchedLead = z.looseObject({ ...lead.shape, conversions_queued: z.array(conversionRef) });

export const conversion = z.looseObject({
  id: text,
  lead_id: z.optional(text),
  platform: z.enum(PLATFORMS),
  status: z.enum(CONVERSION_STATUSES),
  attempts: count,
  last_error: z.optional(text),
  order_id: z.optional(text),
  conversion_time: timestamp,
  value: z.optional(z.number()),
  currency: z.optional(text),
  match: z
    .enum(MATCH_KINDS)
    .check(
      z.describe(
        'click_id: attributed to the ad click id the lead carried; user_data: no click id, matched on the hashed e-mail and phone',
      ),
    ),
  field_warnings: z.optional(
    z
      .array(
        z.looseObject({
          reason: text.check(
            z.meta({
              description: "Google's warning reason, e.g. WARNING_REASON_INVALID_CLIENT_ID",
            }),
          ),
          field: z.optional(
            text.check(
              z.meta({ description: 'The path of the field in the event, e.g. cart_data.items[0]' }),
            ),
          ),
        }),
      )
      .check(
        z.meta({
          description:
            'Optional fields Google accepted the conversion without at its last upload attempt (Data Manager field warnings); the conversion counts, the field was not used',
        }),
      ),
  ),
  created_at: timestamp,
  updated_at: timestamp,
});

export const auditRecord = z.looseObject({
  id: text,
  at: timestamp,
  action: z.enum(AUDIT_ACTIONS),
  email_hash: text,
  actor: text,
  ip: text,
  request_id: text,
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
});

export const subjectLookup = z.looseObject({ subject_id: z.string().check(z.regex(/^[0-9a-f]{64}$/)) });
export const subjectExport = z.looseObject({
  subject_id: text,
  exported_at: timestamp,
  leads: z.array(lead),
  conversions: z.array(conversion),
  consent_history: z.array(z.looseObject({ ...consentChange.shape, lead_id: text })),
  audit: z.array(auditRecord),
});
export const subjectErased = z.looseObject({
  erased: z.literal(true),
  subject_id: text,
  erased_at: timestamp,
  leads: count,
  conversions: count,
  removed: z.looseObject({
    leads: count.check(z.describe('Leads deleted, with their dedup keys')),
    conversions_stripped: count.check(
      z.describe('Conversions whose personal data was removed (queued uploads cancelled)'),
    ),
    dead_letters: count.check(z.describe('Dead-lettered webhook deliveries naming the subject, deleted')),
  }),
  identities_tombstoned: count.check(
    z.describe(
      'E-mail, phone numbers and external ids of the subject kept as keyed hashes with the erasure time: deliveries, retries, redrives, restores and API captures of data created before it are dropped',
    ),
  ),
  dead_letters: z.optional(
    z.looseObject({
      queue: text,
      scanned: count,
      purged: count,
      complete: z.boolean().check(z.describe('False when the sweep stopped at its bound')),
    }),
  ),
  kept: z.record(z.string(), text).check(z.describe('What the erasure leaves, and why')),
});
export const subjectPatched = z.looseObject({
  leads: count,
  restricted: z.nullable(z.boolean()),
  rectified: z.array(text),
  cancelled_uploads: count,
});
export const subjectConsent = z.looseObject({ leads: count, consent, cancelled_uploads: count });

export const tenant = z.looseObject({
  id: text,
  name: text,
  status: z.enum(['active', 'suspended']),
  created_at: timestamp,
  status_changed_at: z.optional(timestamp),
});

export const deadLetter = z.looseObject({
  message_id: text,
  queue: text,
  reason: z.nullable(text),
  source: z.nullable(text),
  attempts: count,
  dead_lettered_at: z.nullable(timestamp),
  size_bytes: count,
});
export const redriveResult = z.looseObject({
  queue: text,
  moved: count,
  dropped: count.check(
    z.describe('Dead letters deleted instead: deliveries of persons erased after their data was created'),
  ),
});

export const backupJob = z.looseObject({
  id: text,
  status: z.enum(['queued', 'running', 'succeeded', 'failed']),
  trigger: z.enum(['api', 'schedule']),
  requested_by: text,
  created_at: timestamp,
  updated_at: timestamp,
  attempts: count,
  started_at: z.optional(timestamp),
  finished_at: z.optional(timestamp),
  progress: z.optional(
    z.looseObject({ tables_total: count, tables_completed: count, items_exported: count }),
  ),
  result: z.optional(
    z.looseObject({ bucket: text, object_key: text, total_items: count, size_bytes: count, sha256: text }),
  ),
  error: z.optional(z.looseObject({ code: text, message: text })),
});

/** The OpenAPI document itself, as `GET /api/v1/openapi.json` serves it. */
export const openApiDocument = z.looseObject({
  openapi: z.string().check(z.regex(/^3\.1\.\d+$/)),
  info: z.looseObject({ title: text, version: text }),
  paths: z.record(z.string(), z.looseObject({})),
});

/** The storefront script: JavaScript source, served as committed. */
export const storefrontScript = z.string();

/** Response schemas that get a name of their own in the document (others are named by operation). */
export const NAMED_RESPONSES: Readonly<Record<string, z.ZodMiniType>> = {
  Lead: lead,
  Conversion: conversion,
  AuditRecord: auditRecord,
  ApiKey: apiKeyRecord,
  CreatedApiKey: createdApiKey,
  Tenant: tenant,
  BackupJob: backupJob,
  DeadLetter: deadLetter,
  Consent: consent,
  ConsentChange: consentChange,
  GoogleAdsSettings: googleAdsSettings,
  MetaSettings: metaSettings,
  WebhookReceived: webhookReceived,
  CaptureResult: captureResult,
  Health: healthResponse,
};
