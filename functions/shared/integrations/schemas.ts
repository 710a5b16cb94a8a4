import * as z from 'zod/mini';

const secret = z
  .string()
  .check(z.minLength(16, 'webhook_secret must be at least 16 characters'), z.maxLength(512));

export const shopifySettingsBody = z.object({
  shop_domain: z
    .string()
    .check(
      z.trim(),
      z.regex(
        /^(https?:\/\/)?[a-zA-Z0-9][a-zA-Z0-9-]*(\.[a-zA-Z0-9-]+)+\/?$/,
        'shop_domain must be a domain such as example.myshopify.com',
      ),
    ),
  webhook_secret: secret,
});

export const wooCommerceSettingsBody = z.object({
  store_url: z.url({ protocol: /^https?$/ }).check(z.maxLength(2048)),
  webhook_secret: secret,
});

export const ghlSettingsBody = z.object({});
