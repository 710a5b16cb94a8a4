import {
  type GoogleAdsSettings,
  publicSettings,
  type StoredGoogleAdsIntegration,
} from '../../providers/google-ads/integration';
import {
  type MetaSettings,
  publicMetaSettings,
  type StoredMetaIntegration,
} from '../../providers/meta/integration';
import { SOURCE_KINDS, type SourceKind } from './dynamo';

/**
 * `GET /api/v1/integrations`: every connection the tenant made, with its status and the reason it
 * stopped, settings as the PUT routes answer them and nothing secret (no secret, token, sealed
 * value or source key). No I/O here.
 */
export const INTEGRATION_KINDS = ['google_ads', 'meta', 'shopify', 'woocommerce', 'ghl'] as const;
export type IntegrationKind = (typeof INTEGRATION_KINDS)[number];
export const INTEGRATION_STATUSES = [
  'connected',
  'needs_reconnect',
  'needs_configuration',
  'disconnected',
] as const;
export type IntegrationOverviewStatus = (typeof INTEGRATION_STATUSES)[number];

export interface IntegrationOverview {
  kind: IntegrationKind;
  status: IntegrationOverviewStatus;
  status_reason?: string;
  updated_at: string;
  [setting: string]: unknown;
}

export interface SavedIntegrations {
  googleAds?: StoredGoogleAdsIntegration;
  meta?: StoredMetaIntegration;
  sources: Partial<Record<SourceKind, Record<string, unknown>>>;
}

/** What each webhook source's settings may show: the rest (its source key) stays in. */
const SOURCE_FIELDS: Record<SourceKind, readonly string[]> = {
  shopify: ['shop_domain'],
  woocommerce: ['store_url'],
  ghl: ['consent_field_id', 'granted_values'],
};

function fromSettings(
  kind: IntegrationKind,
  settings: GoogleAdsSettings | MetaSettings,
): IntegrationOverview {
  const { status, status_reason, updated_at, ...rest } = settings;
  return {
    kind,
    status,
    ...(status_reason && status !== 'connected' ? { status_reason } : {}),
    updated_at: updated_at ?? '',
    ...rest,
  };
}

export function integrationsOverview(saved: SavedIntegrations): IntegrationOverview[] {
  const items: IntegrationOverview[] = [];
  if (saved.googleAds) items.push(fromSettings('google_ads', publicSettings(saved.googleAds)));
  if (saved.meta) items.push(fromSettings('meta', publicMetaSettings(saved.meta)));
  for (const kind of SOURCE_KINDS) {
    const settings = saved.sources[kind];
    if (!settings) continue;
    const shown: Record<string, unknown> = {};
    for (const field of SOURCE_FIELDS[kind])
      if (settings[field] !== undefined) shown[field] = settings[field];
    items.push({
      kind,
      status: 'connected',
      updated_at: typeof settings.updated_at === 'string' ? settings.updated_at : '',
      ...shown,
    });
  }
  return items;
}
