import * as z from 'zod/mini';
import { httpUrl, trimmedText } from '../../platform/http/schema-text';

const secret = z
  .string()
  .check(z.minLength(16, 'webhook_secret must be at least 16 characters'), z.maxLength(512));

/**
 * The shop domain and store URL key the tenant's webhook source; 255 characters (a DNS name is at
 * most 253) keep that key far below DynamoDB's key size whatever the characters.
 */
export const shopifySettingsBody = z.object({
  shop_domain: z
    .string()
    .check(
      z.trim(),
      z.maxLength(255, 'shop_domain must be at most 255 characters'),
      z.regex(
        /^(https?:\/\/)?[a-zA-Z0-9][a-zA-Z0-9-]*(\.[a-zA-Z0-9-]+)+\/?$/,
        'shop_domain must be a domain such as example.myshopify.com',
      ),
    ),
  webhook_secret: secret,
});

export const wooCommerceSettingsBody = z.object({
  store_url: httpUrl(255, 'store_url must be at most 255 characters'),
  webhook_secret: secret,
});

/**
 * The GoHighLevel integration: the id of the contact custom field that holds consent (as HighLevel
 * sends custom fields, `{id, value}`) and the values of that field that mean granted, compared
 * case-insensitively (default `yes`, `true`, `granted`, `1`, `opt-in`; any other value present
 * means denied). Both optional: without a field id, consent comes from custom data named
 * `consent_status`, `consent_timestamp`, `consent_method` (workflow webhooks).
 */
export const ghlSettingsBody = z.object({
  consent_field_id: z.optional(
    trimmedText(128, 'consent_field_id must be 1 to 128 characters').check(
      z.meta({ description: "The custom field's id in HighLevel, e.g. BcdmQEsNgz6AVpgLVUJ0" }),
    ),
  ),
  granted_values: z.optional(
    z.array(trimmedText(100, 'each granted value must be 1 to 100 characters')).check(
      z.minLength(1, 'granted_values needs at least one value'),
      z.maxLength(20, 'granted_values takes at most 20 values'),
      z.overwrite((values) => [...new Set(values.map((v) => v.toLowerCase()))]),
    ),
  ),
});
export type GhlSettingsBody = z.infer<typeof ghlSettingsBody>;
