import { GoogleAdsIntegrationStore } from '../google-ads/settings';
import { MetaIntegrationStore } from '../meta/store';
import type { MatchingSources } from './plan';

/** The matching rules' sources in the tenants table: the saved Google Ads and Meta integrations. */
export function integrationMatchingSources(): MatchingSources {
  let google: GoogleAdsIntegrationStore | undefined;
  let meta: MetaIntegrationStore | undefined;
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
