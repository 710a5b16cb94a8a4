import { GoogleAdsIntegrationStore } from '../../providers/google-ads/integration';
import { MetaIntegrationStore } from '../../providers/meta/dynamo';
import type { MatchingSources } from './rules/plan';

type Reader<T> = { get(tenantId: string): Promise<T | undefined> };

/**
 * The matching rules' sources in the tenants table: the saved Google Ads and Meta integrations
 * (each store made on first use unless given).
 */
export function integrationMatchingSources(
  given: {
    googleAds?: Reader<{ enhanced_conversions_for_leads?: boolean }>;
    meta?: Reader<{ match_by_user_data?: boolean }>;
  } = {},
): MatchingSources {
  let google = given.googleAds;
  let meta = given.meta;
  return {
    googleAds: (tenantId) => {
      google ??= new GoogleAdsIntegrationStore();
      return google.get(tenantId);
    },
    meta: (tenantId) => {
      meta ??= new MetaIntegrationStore();
      return meta.get(tenantId);
    },
  };
}
