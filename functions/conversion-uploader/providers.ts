import { CONVERSIONS_CONSUMER_CONCURRENCY } from '../../contract/resources';
import type { ProviderRegistry } from '../shared/features/conversions/ports-provider';
import { breakerFor } from '../shared/platform/breaker/circuits';
import { guardedProvider } from '../shared/platform/breaker/provider';
import { openCredential } from '../shared/platform/crypto/credentials';
import { googleAdsOutcome } from '../shared/providers/google-ads/breaker';
import { ingestEvents, retrieveRequestStatus } from '../shared/providers/google-ads/data-manager/client';
import { perProcessLimit, QuotaPacer } from '../shared/providers/google-ads/data-manager/pacer';
import {
  uploadClickConversions,
  uploadConversionAdjustments,
} from '../shared/providers/google-ads/google-ads-api/client';
import {
  CLIENT_SECRET_NAME,
  GoogleAdsIntegrationStore,
  REFRESH_TOKEN_NAME,
  type StoredGoogleAdsIntegration,
} from '../shared/providers/google-ads/integration';
import {
  dataManagerTransport,
  type GoogleConnectionDeps,
  type GoogleUploadApi,
  googleAdsApiTransport,
  googleProvider,
  uploadApi,
} from '../shared/providers/google-ads/provider';
import { TokenCache } from '../shared/providers/google-ads/tokens';
import { postEventsGuarded } from '../shared/providers/meta/breaker';
import { MetaIntegrationStore } from '../shared/providers/meta/dynamo';
import { ACCESS_TOKEN_NAME } from '../shared/providers/meta/integration';
import { metaProvider } from '../shared/providers/meta/provider';
import { scopeFor } from './messages';

/**
 * The ad platforms' providers as the uploader runs them: the tenants' sealed credentials opened
 * for the uploader's system actor, Google through its configured transport (the Data Manager API
 * by default, or the Google Ads API with GOOGLE_ADS_UPLOAD_API=google_ads_api), and every
 * request through the platform's shared circuit breaker.
 */

/** Access tokens live as long as the execution environment: one refresh per hour per credential. */
const tokens = new TokenCache();
/** This process's share of the Data Manager quota (300 requests a minute per Cloud project). */
const pacer = new QuotaPacer(perProcessLimit(CONVERSIONS_CONSUMER_CONCURRENCY));

const google: GoogleConnectionDeps = {
  integrations: new GoogleAdsIntegrationStore(),
  async credential(tenantId: string, integration: StoredGoogleAdsIntegration) {
    const scope = scopeFor(tenantId);
    return {
      clientId: integration.client_id,
      clientSecret: await openCredential(scope, CLIENT_SECRET_NAME, integration.sealed_client_secret),
      refreshToken: await openCredential(scope, REFRESH_TOKEN_NAME, integration.sealed_refresh_token),
    };
  },
  accessToken: (credential, requiredScope) => tokens.accessToken(credential, requiredScope),
  forgetToken: (credential) => tokens.forget(credential),
};

/** Meta's Conversions API: the tenant's pixel and its access token, opened per invocation. */
const meta = metaProvider({
  integrations: new MetaIntegrationStore(),
  accessToken: (tenantId, integration) =>
    openCredential(scopeFor(tenantId), ACCESS_TOKEN_NAME, integration.sealed_access_token),
  // Every Conversions API call goes through the shared meta breaker.
  post: (call) => postEventsGuarded(call),
  now: () => new Date(),
});

const registries = new Map<GoogleUploadApi, Required<ProviderRegistry>>();
/**
 * The providers for the configured Google transport (read per invocation, built once): one for
 * every platform (a new platform fails the typecheck here until it is wired).
 */
export function providers(): Required<ProviderRegistry> {
  const api = uploadApi();
  let found = registries.get(api);
  if (!found) {
    const transport =
      api === 'data_manager'
        ? dataManagerTransport({ ingest: ingestEvents, retrieve: retrieveRequestStatus }, pacer)
        : googleAdsApiTransport((call) => uploadClickConversions(call));
    found = {
      // Every request to Google, whichever transport, goes through the shared google_ads breaker.
      google_ads: guardedProvider(
        googleProvider(google, transport, (call) => uploadConversionAdjustments(call)),
        breakerFor('google_ads'),
        googleAdsOutcome,
      ),
      meta,
    };
    registries.set(api, found);
  }
  return found;
}
