import * as z from 'zod/mini';

/**
 * A tenant's Meta connection: the pixel (dataset) its events go to, the Conversions API access
 * token (sealed per tenant, never shown again), and what to send. No I/O here.
 */

/** The name the access token is sealed under (bound to the tenant by the encryption context). */
export const ACCESS_TOKEN_NAME = 'meta.access_token';

/** `PUT /api/v1/integrations/meta` (docs/conversions.md, Meta conversions). */
export const metaSettingsBody = z.object({
  pixel_id: z
    .string()
    .check(z.trim(), z.regex(/^\d{5,20}$/, 'pixel_id must be the numeric id of a Meta pixel (dataset)')),
  access_token: z
    .string()
    .check(
      z.trim(),
      z.minLength(20, 'access_token must be a Conversions API access token'),
      z.maxLength(2048),
      z.regex(/^\S+$/, 'access_token must not contain spaces'),
    ),
  /** Events Manager's Test Events code: events go to the test view instead of the pixel's data. */
  test_event_code: z.optional(
    z
      .string()
      .check(
        z.trim(),
        z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'test_event_code must be the code Events Manager shows'),
      ),
  ),
  /** Also send a `Lead` event for each captured lead that has an fbclid. */
  lead_events: z.optional(z.boolean()),
  /**
   * US state privacy laws: send every event with Meta's Limited Data Use processing option, Meta
   * deciding from the event's location whether it applies.
   */
  limited_data_use: z.optional(z.boolean()),
  /**
   * A won lead or paid order without an fbclid is sent matched on the person's hashed e-mail,
   * phone and lead id (with fbp, IP address and user agent where captured). Default true.
   */
  match_by_user_data: z.optional(
    z
      .boolean()
      .check(
        z.describe(
          'Send conversions without an fbclid, matched on hashed user data (em, ph, external_id). Default true.',
        ),
      ),
  ),
});
export type MetaSettingsBody = z.infer<typeof metaSettingsBody>;

export type MetaIntegrationStatus = 'connected' | 'disconnected';

/** The settings as the API shows them: never the token. */
export interface MetaSettings {
  pixel_id: string;
  test_event_code?: string;
  lead_events: boolean;
  limited_data_use: boolean;
  /** Absent on integrations saved before the setting existed: true. */
  match_by_user_data?: boolean;
  status: MetaIntegrationStatus;
  /** Why the integration stopped (e.g. Meta refused the access token). */
  status_reason?: string;
  updated_at: string;
}

/** The stored item: the settings and the sealed access token. */
export interface StoredMetaIntegration extends MetaSettings {
  sealed_access_token: string;
}

export function publicMetaSettings(stored: StoredMetaIntegration): MetaSettings {
  const { sealed_access_token: _token, ...settings } = stored;
  return { ...settings, match_by_user_data: stored.match_by_user_data !== false };
}

/** The stored integration for a validated body, connected as of `now`. */
export function metaIntegrationOf(
  body: MetaSettingsBody,
  sealedAccessToken: string,
  now: Date,
): StoredMetaIntegration {
  return {
    pixel_id: body.pixel_id,
    ...(body.test_event_code ? { test_event_code: body.test_event_code } : {}),
    lead_events: body.lead_events ?? false,
    limited_data_use: body.limited_data_use ?? false,
    match_by_user_data: body.match_by_user_data ?? true,
    status: 'connected',
    updated_at: now.toISOString(),
    sealed_access_token: sealedAccessToken,
  };
}
