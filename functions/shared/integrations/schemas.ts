import * as z from 'zod/mini';
import { httpUrl } from '../schema-text';

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

export const ghlSettingsBody = z.object({});
