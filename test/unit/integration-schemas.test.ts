import {
  shopifySettingsBody,
  wooCommerceSettingsBody,
} from '../../functions/shared/features/integrations/schema';

const secret = 'a-webhook-secret-0123';

describe('webhook source settings', () => {
  it('take a shop domain or store URL of up to 255 characters, which keys the source in DynamoDB', () => {
    const domain = (length: number) => `${'a'.repeat(length - '.myshopify.com'.length)}.myshopify.com`;
    expect(shopifySettingsBody.safeParse({ shop_domain: domain(255), webhook_secret: secret }).success).toBe(
      true,
    );
    const long = shopifySettingsBody.safeParse({ shop_domain: domain(256), webhook_secret: secret });
    expect(long.error?.issues.map((i) => i.message)).toEqual(['shop_domain must be at most 255 characters']);
    const url = (length: number) => `https://store.example.com/${'p'.repeat(length - 26)}`;
    expect(wooCommerceSettingsBody.safeParse({ store_url: url(255), webhook_secret: secret }).success).toBe(
      true,
    );
    const longUrl = wooCommerceSettingsBody.safeParse({ store_url: url(256), webhook_secret: secret });
    expect(longUrl.error?.issues.map((i) => i.message)).toEqual(['store_url must be at most 255 characters']);
  });
});
