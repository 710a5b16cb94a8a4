import { randomBytes } from 'node:crypto';
import openApiDocument from '../../docs/openapi.json';
import { DynamoConversionStore } from '../shared/features/conversions/dynamo';
import {
  DynamoSourceStore,
  ghlTokenKey,
  normaliseShopDomain,
  normaliseStoreUrl,
  SOURCE_KINDS,
} from '../shared/features/integrations/dynamo';
import {
  ghlSettingsBody,
  shopifySettingsBody,
  wooCommerceSettingsBody,
} from '../shared/features/integrations/schema';
import { integrationsOverview } from '../shared/features/integrations/service';
import { AUDIT_RETENTION_DAYS } from '../shared/features/retention/rules';
import { loadStorefrontScript, storefrontResponse } from '../shared/features/storefront/service';
import { DynamoTenantStore } from '../shared/features/tenancy/dynamo';
import { ConsentPolicyStore } from '../shared/features/tenancy/dynamo-consent-policy';
import { RetentionStore } from '../shared/features/tenancy/dynamo-retention';
import { scopeOf } from '../shared/features/tenancy/rules/scope';
import { consentPolicyBody, createApiKeyBody, retentionBody } from '../shared/features/tenancy/schema';
import { ApiKeyPolicyError, creatorOf, issueApiKey, visibleTo } from '../shared/features/tenancy/service';
import { loadKeyring } from '../shared/platform/auth/keyring';
import { API_TOKEN_SECONDS, signToken } from '../shared/platform/auth/tokens';
import { publicBaseUrl } from '../shared/platform/config/public-url';
import { openCredential, sealCredential } from '../shared/platform/crypto/credentials';
import { forbidden, HttpError, notFound, validationFailed } from '../shared/platform/http/errors';
import { authOf, httpHandler, json } from '../shared/platform/http/handler';
import { parseJsonBody } from '../shared/platform/http/validation';
import { lazy } from '../shared/platform/lazy';
import {
  CLIENT_SECRET_NAME,
  GoogleAdsIntegrationStore,
  googleAdsSettingsBody,
  NEEDS_DATA_MANAGER_SCOPE,
  publicSettings,
  REFRESH_TOKEN_NAME,
  type StoredGoogleAdsIntegration,
} from '../shared/providers/google-ads/integration';
import {
  authorizationUrl,
  DATA_MANAGER_SCOPE,
  exchangeCode,
  newState,
  OAuthStateStore,
  oauthRefusal,
  STATE_TTL_SECONDS,
  verifiedNonce,
} from '../shared/providers/google-ads/oauth';
import { GoogleAdsFailure } from '../shared/providers/google-ads/tokens';
import { MetaIntegrationStore } from '../shared/providers/meta/dynamo';
import {
  ACCESS_TOKEN_NAME,
  metaIntegrationOf,
  metaSettingsBody,
  publicMetaSettings,
} from '../shared/providers/meta/integration';
import { billingStatus, openBillingPortal } from '../shared/providers/stripe/billing';
import { StripeClient } from '../shared/providers/stripe/client';
import { billingPortalBody } from '../shared/providers/stripe/schema';

const tenants = lazy(() => new DynamoTenantStore());
const sources = lazy(() => new DynamoSourceStore());
const consentPolicies = lazy(() => new ConsentPolicyStore());
const retentions = lazy(() => new RetentionStore());
const googleAdsIntegrations = lazy(() => new GoogleAdsIntegrationStore());
const metaIntegrations = lazy(() => new MetaIntegrationStore());
const conversions = lazy(() => new DynamoConversionStore());
const oauthStates = lazy(() => new OAuthStateStore());
const stripe = lazy(() => new StripeClient());

const callbackUrl = () => `${baseUrl()}/api/v1/integrations/google-ads/oauth/callback`;

/** The configured public base URL (PUBLIC_BASE_URL): where webhook senders post; never the Host header. */
const baseUrl = () => publicBaseUrl();

export const handler = httpHandler('api', {
  /** The document generated from the route table and schemas (`npm run openapi`), as committed. */
  'GET /api/v1/openapi.json': async () =>
    json(200, openApiDocument, { 'Cache-Control': 'public, max-age=300' }),

  /** The storefront script as committed; 304 when the caller holds this version. */
  'GET /api/v1/storefront.js': async (request) =>
    storefrontResponse(loadStorefrontScript(), request.headers['if-none-match']),

  'POST /api/v1/auth/token': async (request) => {
    const auth = authOf(request);
    const token = await signToken(
      await loadKeyring(),
      { sub: auth.subject, org_id: auth.tenantId, role: auth.role },
      API_TOKEN_SECONDS,
    );
    return json(200, { access_token: token, token_type: 'Bearer', expires_in: API_TOKEN_SECONDS });
  },

  /** The keys the caller may see: those whose role is at most the caller's. */
  'GET /api/v1/api-keys': async (request) => {
    const auth = authOf(request);
    const items = (await tenants().listApiKeys(scopeOf(auth))).filter((key) => visibleTo(auth, key));
    return json(200, { items, next_cursor: null });
  },

  /** People make keys, up to their own role; a token exchanged for an API key cannot (403). */
  'POST /api/v1/api-keys': async (request) => {
    const auth = authOf(request);
    const body = parseJsonBody(request, createApiKeyBody);
    let creator: ReturnType<typeof creatorOf>;
    try {
      creator = creatorOf(auth, 'tenant', body.role);
    } catch (error) {
      if (error instanceof ApiKeyPolicyError) throw forbidden(error.message);
      throw error;
    }
    const { record, key } = await issueApiKey(tenants(), scopeOf(auth), body, creator);
    return json(201, { ...record, key });
  },

  /** Every connection of the tenant, its status and why it stopped; nothing secret. */
  'GET /api/v1/integrations': async (request) => {
    const scope = scopeOf(authOf(request));
    const [google, pixel, ...sourceSettings] = await Promise.all([
      googleAdsIntegrations().get(scope.tenantId),
      metaIntegrations().get(scope.tenantId),
      ...SOURCE_KINDS.map((kind) => sources().settings(scope, kind)),
    ]);
    const items = integrationsOverview({
      ...(google ? { googleAds: google } : {}),
      ...(pixel ? { meta: pixel } : {}),
      sources: Object.fromEntries(
        SOURCE_KINDS.flatMap((kind, i) => (sourceSettings[i] ? [[kind, sourceSettings[i]]] : [])),
      ),
    });
    return json(200, { items });
  },

  'PUT /api/v1/integrations/shopify': async (request) => {
    const scope = scopeOf(authOf(request));
    const body = parseJsonBody(request, shopifySettingsBody);
    const domain = normaliseShopDomain(body.shop_domain);
    const sealed = await sealCredential(scope, 'shopify.webhook_secret', body.webhook_secret);
    const settings = { shop_domain: domain, updated_at: new Date().toISOString() };
    await sources().save(scope, 'shopify', domain, settings, sealed);
    return json(200, { ...settings, webhook_url: `${baseUrl()}/api/v1/shopify/webhook` });
  },

  'PUT /api/v1/integrations/woocommerce': async (request) => {
    const scope = scopeOf(authOf(request));
    const body = parseJsonBody(request, wooCommerceSettingsBody);
    const storeUrl = normaliseStoreUrl(body.store_url);
    const sealed = await sealCredential(scope, 'woocommerce.webhook_secret', body.webhook_secret);
    const settings = { store_url: storeUrl, updated_at: new Date().toISOString() };
    await sources().save(scope, 'woocommerce', storeUrl, settings, sealed);
    return json(200, { ...settings, webhook_url: `${baseUrl()}/api/v1/woocommerce/webhook` });
  },

  /** The tenant's Google Ads account; client secret and refresh token are sealed and never returned. */
  'PUT /api/v1/integrations/google-ads': async (request) => {
    const scope = scopeOf(authOf(request));
    const body = parseJsonBody(request, googleAdsSettingsBody);
    const stored: StoredGoogleAdsIntegration = {
      customer_id: body.customer_id,
      conversion_action_id: body.conversion_action_id,
      ...(body.login_customer_id ? { login_customer_id: body.login_customer_id } : {}),
      client_id: body.client_id,
      ...(body.currency ? { currency: body.currency } : {}),
      time_zone: body.time_zone ?? 'UTC',
      enhanced_conversions_for_leads: body.enhanced_conversions_for_leads ?? false,
      status: 'connected',
      updated_at: new Date().toISOString(),
      sealed_client_secret: await sealCredential(scope, CLIENT_SECRET_NAME, body.client_secret),
      sealed_refresh_token: await sealCredential(scope, REFRESH_TOKEN_NAME, body.refresh_token),
    };
    const before = await googleAdsIntegrations().get(scope.tenantId);
    await googleAdsIntegrations().save(scope, stored);
    // Conversions that waited in the log for the account's configuration go out again now.
    if (before?.status === 'needs_configuration') {
      await conversions().requeueWaiting(scope, 'google_ads');
    }
    return json(200, publicSettings(stored));
  },

  /**
   * Starts the OAuth connect flow with the client saved by PUT: a redirect to Google's consent
   * screen carrying a signed, single-use state bound to this tenant and user (10 minutes).
   */
  'GET /api/v1/integrations/google-ads/oauth/start': async (request) => {
    const auth = authOf(request);
    const scope = scopeOf(auth);
    const integration = await googleAdsIntegrations().get(scope.tenantId);
    if (!integration)
      throw notFound('Save the Google Ads settings (PUT /api/v1/integrations/google-ads) first');
    const { state, nonce } = newState((await loadKeyring()).current.secret);
    await oauthStates().save(nonce, {
      tenant_id: scope.tenantId,
      subject: auth.subject,
      redirect_uri: callbackUrl(),
      expires_at: Math.floor(Date.now() / 1000) + STATE_TTL_SECONDS,
    });
    const location = authorizationUrl(integration.client_id, callbackUrl(), state);
    return json(302, { authorization_url: location }, { Location: location });
  },

  /** Google's redirect back: the state is checked and consumed, the code exchanged, the refresh token sealed. */
  'GET /api/v1/integrations/google-ads/oauth/callback': async (request) => {
    if (request.query.error)
      throw validationFailed([{ path: 'error', message: oauthRefusal(request.query.error) }]);
    const keyring = await loadKeyring();
    const nonce = verifiedNonce(
      request.query.state ?? '',
      keyring.previous ? [keyring.current.secret, keyring.previous.secret] : [keyring.current.secret],
    );
    const invalidState = () =>
      validationFailed([{ path: 'state', message: 'Invalid, expired or used state' }]);
    if (!nonce) throw invalidState();
    const pending = await oauthStates().take(nonce, Math.floor(Date.now() / 1000));
    if (!pending) throw invalidState();
    const code = request.query.code;
    if (!code) throw validationFailed([{ path: 'code', message: 'code is required' }]);
    const integration = await googleAdsIntegrations().get(pending.tenant_id);
    if (!integration) throw notFound('The Google Ads settings were removed');
    // The tenant comes from the consumed state, never from the request.
    const scope = { tenantId: pending.tenant_id } as ReturnType<typeof scopeOf>;
    let granted: Awaited<ReturnType<typeof exchangeCode>>;
    try {
      granted = await exchangeCode(
        code,
        {
          clientId: integration.client_id,
          clientSecret: await openCredential(scope, CLIENT_SECRET_NAME, integration.sealed_client_secret),
        },
        pending.redirect_uri,
      );
    } catch (error) {
      if (error instanceof GoogleAdsFailure)
        throw new HttpError(503, 'service_unavailable', 'Google could not be reached; start again', {
          retry_after: 60,
        });
      throw error;
    }
    const { status_reason: _reason, ...rest } = integration;
    // Consent given without the Data Manager permission: stored, but uploads wait for a reconnect.
    const lacksDataManager = granted.scopes !== undefined && !granted.scopes.includes(DATA_MANAGER_SCOPE);
    const stored: StoredGoogleAdsIntegration = {
      ...rest,
      status: lacksDataManager ? 'needs_reconnect' : 'connected',
      ...(lacksDataManager ? { status_reason: NEEDS_DATA_MANAGER_SCOPE } : {}),
      updated_at: new Date().toISOString(),
      sealed_refresh_token: await sealCredential(scope, REFRESH_TOKEN_NAME, granted.refreshToken),
    };
    await googleAdsIntegrations().save(scope, stored);
    // Connected again after Google refused the account's setup: what waited in the log goes out.
    if (integration.status === 'needs_configuration' && stored.status === 'connected') {
      await conversions().requeueWaiting(scope, 'google_ads');
    }
    return json(200, publicSettings(stored));
  },

  /**
   * The tenant's Meta pixel. The access token is sealed for this tenant and never returned; saving
   * again (a new token) connects a disconnected pixel again.
   */
  'PUT /api/v1/integrations/meta': async (request) => {
    const scope = scopeOf(authOf(request));
    const body = parseJsonBody(request, metaSettingsBody);
    const sealed = await sealCredential(scope, ACCESS_TOKEN_NAME, body.access_token);
    const stored = metaIntegrationOf(body, sealed, new Date());
    const before = await metaIntegrations().get(scope.tenantId);
    await metaIntegrations().save(scope, stored);
    // Events that waited for a connection (never connected, or a refused token) go out now.
    if (before?.status !== 'connected') {
      await conversions().requeueWaiting(scope, 'meta');
    }
    return json(200, publicMetaSettings(stored));
  },

  /**
   * A new webhook URL for GoHighLevel, with the custom field that holds consent and the values that
   * mean granted; the token in the URL is shown here only and replaces the last one.
   */
  'PUT /api/v1/integrations/ghl': async (request) => {
    const scope = scopeOf(authOf(request));
    const body = parseJsonBody(request, ghlSettingsBody);
    const token = randomBytes(32).toString('base64url');
    const settings = {
      ...(body.consent_field_id !== undefined ? { consent_field_id: body.consent_field_id } : {}),
      ...(body.granted_values !== undefined ? { granted_values: body.granted_values } : {}),
      updated_at: new Date().toISOString(),
    };
    await sources().save(scope, 'ghl', ghlTokenKey(token), settings);
    return json(200, { ...settings, webhook_url: `${baseUrl()}/api/v1/ghl/webhook/${token}` });
  },

  /** The tenant's consent policy: `explicit` until an admin sets one. */
  'GET /api/v1/settings/consent': async (request) => {
    const { tenantId } = scopeOf(authOf(request));
    return json(200, await consentPolicies().get(tenantId));
  },

  'PUT /api/v1/settings/consent': async (request) => {
    const scope = scopeOf(authOf(request));
    const body = parseJsonBody(request, consentPolicyBody);
    return json(200, await consentPolicies().save(scope, body.policy, new Date()));
  },

  /** The tenant's retention: 400 days for leads and conversions until an admin sets it. */
  'GET /api/v1/settings/retention': async (request) => {
    const { tenantId } = scopeOf(authOf(request));
    return json(200, { ...(await retentions().get(tenantId)), audit_days: AUDIT_RETENTION_DAYS });
  },

  'PUT /api/v1/settings/retention': async (request) => {
    const scope = scopeOf(authOf(request));
    const body = parseJsonBody(request, retentionBody);
    const saved = await retentions().save(scope, body, new Date());
    return json(200, { ...saved, audit_days: AUDIT_RETENTION_DAYS });
  },

  'GET /api/v1/billing': async (request) => {
    const tenant = await tenants().getTenant(scopeOf(authOf(request)).tenantId);
    if (!tenant) throw notFound('Tenant not found');
    return json(200, billingStatus(tenant));
  },

  'POST /api/v1/billing/portal': async (request) => {
    const body = parseJsonBody(request, billingPortalBody);
    const tenant = await tenants().getTenant(scopeOf(authOf(request)).tenantId);
    if (!tenant) throw notFound('Tenant not found');
    return json(200, await openBillingPortal(tenant, stripe(), body.return_url));
  },

  /**
   * Revokes a key the caller may see: the key stops at once, the tokens exchanged for it within
   * the standing cache bound. Another tenant's key, or a key above the caller's role, is 404.
   */
  'DELETE /api/v1/api-keys/{id}': async (request) => {
    const auth = authOf(request);
    const scope = scopeOf(auth);
    const id = request.params.id ?? '';
    const key = await tenants().getApiKey(scope, id);
    if (!key || !visibleTo(auth, key)) throw notFound('API key not found');
    const revoked = await tenants().revokeApiKey(scope, id, new Date().toISOString());
    if (!revoked) throw notFound('API key not found');
    return { status: 204 };
  },
});
