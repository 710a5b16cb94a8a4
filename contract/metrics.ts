/**
 * Application metrics the functions emit (CloudWatch EMF, namespace `AdsEngineer`, dimensions
 * `service` and `stage`) that page or warn on-call. The functions name metrics from here and the
 * monitoring construct alarms on them, so a name cannot drift between the two. Pure data.
 */

/**
 * Groups of the Data Manager API's field warning reasons (`WarningReason`), the `warning_reason`
 * dimension: a small closed set; the provider maps each of Google's reasons to one of them.
 */
export const WARNING_REASON_GROUPS = [
  'custom_variable',
  'cart_data',
  'client_id',
  'location',
  'device',
  'merchant_id',
  'generic',
  'unspecified',
  'other',
] as const;

export const METRIC_NAMESPACE = 'AdsEngineer';
export const SERVICE_NAME = 'adsengineer';

export const METRICS = {
  rateLimitStoreError: 'RateLimitStoreError',
  configurationError: 'ConfigurationError',
  unhandledError: 'UnhandledError',
  backupAttemptWithoutKey: 'BackupAttemptWithoutKey',
  backupCompleted: 'BackupCompleted',
  backupItems: 'BackupItems',
  backupBytes: 'BackupBytes',
  backupAttemptFailed: 'BackupAttemptFailed',
  googleAdsDisconnected: 'GoogleAdsDisconnected',
  googleAdsConfigurationError: 'GoogleAdsConfigurationError',
  /** Google refused conversions matched on user data for an account's settings (enhanced conversions for leads). */
  googleAdsNeedsConfiguration: 'GoogleAdsNeedsConfiguration',
  apiRequests: 'ApiRequests',
  apiLatency: 'ApiLatency',
  leadsStored: 'LeadsStored',
  leadsDeniedConsent: 'LeadsDeniedConsent',
  leadEventNotQueued: 'LeadEventNotQueued',
  leadWriteConflict: 'LeadWriteConflict',
  rateLimitExceeded: 'RateLimitExceeded',
  webhookAccepted: 'WebhookAccepted',
  webhookSignatureInvalid: 'WebhookSignatureInvalid',
  webhookDeadLettered: 'WebhookDeadLettered',
  webhookEnqueueFailed: 'WebhookEnqueueFailed',
  webhookEnvelopeInvalid: 'WebhookEnvelopeInvalid',
  webhookProcessed: 'WebhookProcessed',
  webhookIgnored: 'WebhookIgnored',
  webhookWaiting: 'WebhookWaiting',
  webhookRetried: 'WebhookRetried',
  conversionsUploaded: 'ConversionsUploaded',
  conversionsFailed: 'ConversionsFailed',
  conversionsRetried: 'ConversionsRetried',
  conversionsCancelled: 'ConversionsCancelled',
  conversionsWaiting: 'ConversionsWaiting',
  conversionDeadLettered: 'ConversionDeadLettered',
  uploadLatency: 'UploadLatency',
  uploadBatchSize: 'UploadBatchSize',
  /** Per platform (dimension platform): events the platform accepted, refused for good, left waiting. */
  platformEventsSent: 'PlatformEventsSent',
  /** Per platform and match kind (dimensions platform, match): conversions the platform accepted. */
  conversionsSentByMatch: 'ConversionsSentByMatch',
  platformEventsFailed: 'PlatformEventsFailed',
  platformEventsWaiting: 'PlatformEventsWaiting',
  platformBatchSize: 'PlatformBatchSize',
  authTokenRejected: 'AuthTokenRejected',
  authApiKeyRejected: 'AuthApiKeyRejected',
  googleAdsNotAllowlisted: 'GoogleAdsNotAllowlisted',
  metaDisconnected: 'MetaDisconnected',
  metaConfigurationError: 'MetaConfigurationError',
  /** Data Manager field warnings: optional fields Google accepted events without (dimension warning_reason). */
  dataManagerFieldWarnings: 'DataManagerFieldWarnings',
  /** Circuit breakers: every state change (dimensions provider, state). */
  circuitStateChange: 'CircuitStateChange',
  /** Circuit breakers: seconds since the circuit opened, while it refuses calls (dimension provider). */
  circuitOpenSeconds: 'CircuitOpenSeconds',
} as const;

export type MetricName = (typeof METRICS)[keyof typeof METRICS];

/**
 * Metric dimensions beyond `service` and `stage`, each with every value it may take: a closed,
 * small set, so no tenant id, email or URL can become a dimension. A value outside the set is
 * emitted as `other`.
 */
export const DIMENSION_VALUES = {
  route_group: [
    'health',
    'auth',
    'leads',
    'conversions',
    'gdpr',
    'integrations',
    'webhooks',
    'billing',
    'admin',
    'docs',
    'other',
  ],
  status_class: ['2xx', '3xx', '4xx', '5xx'],
  sender: ['shopify', 'woocommerce', 'ghl', 'stripe', 'other'],
  platform: ['google_ads', 'meta', 'other'],
  match: ['click_id', 'user_data', 'other'],
  provider: ['google_ads', 'meta', 'stripe'],
  state: ['closed', 'open', 'half_open'],
  /** Data Manager field warnings: Google's `WarningReason` enum, by group (`other` for a new one). */
  warning_reason: WARNING_REASON_GROUPS,
} as const;

export type DimensionName = keyof typeof DIMENSION_VALUES;
export type DimensionValue<D extends DimensionName> = (typeof DIMENSION_VALUES)[D][number];
export type RouteGroup = DimensionValue<'route_group'>;

/** Route groups by path prefix, most specific first. */
const ROUTE_GROUP_PREFIXES: readonly (readonly [string, RouteGroup])[] = [
  ['/health', 'health'],
  ['/api/v1/billing/webhooks/', 'webhooks'],
  ['/api/v1/shopify/', 'webhooks'],
  ['/api/v1/woocommerce/', 'webhooks'],
  ['/api/v1/ghl/', 'webhooks'],
  ['/api/v1/auth/', 'auth'],
  ['/api/v1/api-keys', 'auth'],
  ['/api/v1/leads', 'leads'],
  ['/api/v1/conversions', 'conversions'],
  ['/api/v1/gdpr/', 'gdpr'],
  ['/api/v1/integrations', 'integrations'],
  // The tenant's own settings (consent policy) count with its connections: its configuration.
  ['/api/v1/settings/', 'integrations'],
  ['/api/v1/billing', 'billing'],
  ['/api/v1/admin/', 'admin'],
  ['/api/v1/openapi', 'docs'],
  // Public, tenant-free files: the OpenAPI document and the storefront script.
  ['/api/v1/storefront.js', 'docs'],
];

/** The route group of a route template (never a raw path: a raw path may carry a token). */
export function routeGroupOf(routeTemplate: string): RouteGroup {
  return ROUTE_GROUP_PREFIXES.find(([prefix]) => routeTemplate.startsWith(prefix))?.[1] ?? 'other';
}

export function statusClassOf(status: number): DimensionValue<'status_class'> {
  if (status >= 500) return '5xx';
  if (status >= 400) return '4xx';
  if (status >= 300) return '3xx';
  return '2xx';
}

/** What the functions emit: the dashboards and alarms may only name metrics listed here. */
export interface EmittedMetric {
  readonly name: MetricName;
  readonly unit: 'Count' | 'Milliseconds' | 'Seconds' | 'Bytes';
  readonly dimensions: readonly DimensionName[];
  readonly description: string;
}

/** A metric of the catalogue: a count, with no dimension beyond `service` and `stage`, unless it says. */
function emitted(
  name: MetricName,
  description: string,
  { unit = 'Count', dimensions = [] }: Partial<Pick<EmittedMetric, 'unit' | 'dimensions'>> = {},
): EmittedMetric {
  return { name, unit, dimensions, description };
}

export const EMITTED_METRICS: readonly EmittedMetric[] = [
  emitted(METRICS.apiRequests, 'API requests answered, per route group and status class', {
    dimensions: ['route_group', 'status_class'],
  }),
  emitted(METRICS.apiLatency, 'Handler time of an API request, per route group', {
    unit: 'Milliseconds',
    dimensions: ['route_group'],
  }),
  emitted(METRICS.leadsStored, 'Leads captured'),
  emitted(METRICS.leadsDeniedConsent, 'Leads refused for lack of consent'),
  emitted(
    METRICS.leadEventNotQueued,
    'Captured leads whose Meta Lead event could not be queued (the capture still succeeded)',
  ),
  emitted(METRICS.leadWriteConflict, 'Lead writes that met a concurrent change and were tried again'),
  emitted(METRICS.rateLimitExceeded, 'Requests refused with 429 by a rate limit'),
  emitted(METRICS.webhookAccepted, 'Webhook deliveries verified and queued', { dimensions: ['sender'] }),
  emitted(METRICS.webhookSignatureInvalid, 'Webhook deliveries rejected for their signature or source', {
    dimensions: ['sender'],
  }),
  emitted(METRICS.webhookDeadLettered, 'Webhook deliveries moved to the dead-letter queue', {
    dimensions: ['sender'],
  }),
  emitted(
    METRICS.webhookEnqueueFailed,
    'Verified webhook deliveries that could not be queued (answered 503, the sender retries)',
  ),
  emitted(
    METRICS.webhookEnvelopeInvalid,
    'Webhook queue messages that are not a webhook envelope (dead-lettered)',
  ),
  emitted(METRICS.webhookProcessed, 'Webhook deliveries the worker acted on'),
  emitted(METRICS.webhookIgnored, 'Webhook deliveries the worker had nothing to act on'),
  emitted(
    METRICS.webhookWaiting,
    'Webhook deliveries sent back to wait for a provider whose circuit is open or that is unwell',
  ),
  emitted(METRICS.webhookRetried, 'Webhook deliveries that failed and are retried by the queue'),
  emitted(METRICS.conversionsUploaded, 'Conversions accepted by the ad platform'),
  emitted(METRICS.conversionsFailed, 'Conversions refused for good'),
  emitted(METRICS.conversionsRetried, 'Conversions rescheduled after a transient failure'),
  emitted(
    METRICS.conversionsCancelled,
    'Conversions cancelled before upload (their lead erased or restricted, or its consent withdrawn)',
  ),
  emitted(
    METRICS.conversionsWaiting,
    'Conversions left waiting (disconnected account, open circuit, backoff)',
  ),
  emitted(METRICS.conversionDeadLettered, 'Conversion queue messages moved to the dead-letter queue'),
  emitted(METRICS.uploadLatency, 'Duration of one upload request', { unit: 'Milliseconds' }),
  emitted(METRICS.platformEventsSent, 'Conversion events the ad platform accepted, per platform', {
    dimensions: ['platform'],
  }),
  emitted(
    METRICS.conversionsSentByMatch,
    'Conversions the ad platform accepted, per platform and match kind (click_id, or user_data without a click id)',
    { dimensions: ['platform', 'match'] },
  ),
  emitted(METRICS.platformEventsFailed, 'Conversion events refused for good, per platform', {
    dimensions: ['platform'],
  }),
  emitted(
    METRICS.platformEventsWaiting,
    'Conversion events left waiting (disconnected account, open circuit, backoff), per platform',
    { dimensions: ['platform'] },
  ),
  emitted(METRICS.platformBatchSize, 'Conversion events per upload request, per platform', {
    dimensions: ['platform'],
  }),
  emitted(
    METRICS.dataManagerFieldWarnings,
    'Data Manager field warnings: optional fields Google ingested events without, per reason group',
    { dimensions: ['warning_reason'] },
  ),
  emitted(METRICS.uploadBatchSize, 'Conversions per upload request'),
  emitted(METRICS.circuitStateChange, 'Circuit breaker state changes, per provider and new state', {
    dimensions: ['provider', 'state'],
  }),
  emitted(METRICS.circuitOpenSeconds, 'How long a refusing circuit has been open, per provider', {
    unit: 'Seconds',
    dimensions: ['provider'],
  }),
  emitted(METRICS.authTokenRejected, 'Bearer tokens refused'),
  emitted(METRICS.authApiKeyRejected, 'API keys refused'),
  emitted(METRICS.rateLimitStoreError, 'Rate-limit store failures'),
  emitted(METRICS.configurationError, 'Missing settings'),
  emitted(METRICS.unhandledError, 'Requests answered 500'),
  emitted(METRICS.backupAttemptWithoutKey, 'Backups refused for want of a key'),
  emitted(METRICS.backupCompleted, 'Backups written'),
  emitted(METRICS.backupItems, 'Items in a written backup'),
  emitted(METRICS.backupBytes, 'Size of a written backup', { unit: 'Bytes' }),
  emitted(METRICS.backupAttemptFailed, 'Backup attempts that failed (retried, then dead-lettered)'),
  emitted(METRICS.googleAdsDisconnected, 'Google Ads refresh tokens refused'),
  emitted(METRICS.googleAdsConfigurationError, 'Google Ads configuration refusals'),
  emitted(
    METRICS.googleAdsNeedsConfiguration,
    "Google Ads accounts whose conversions were parked: enhanced conversions for leads not enabled, terms not accepted, or Google's data policy",
  ),
  emitted(
    METRICS.googleAdsNotAllowlisted,
    "Google refusals of the platform's developer token for click conversion uploads",
  ),
  emitted(METRICS.metaDisconnected, 'Meta Conversions API access tokens refused'),
  emitted(METRICS.metaConfigurationError, 'Meta refusals of the Graph API version the uploader calls'),
];

export function emittedMetric(name: MetricName): EmittedMetric {
  const found = EMITTED_METRICS.find((m) => m.name === name);
  if (!found) throw new Error(`${name} is not an emitted metric`);
  return found;
}

export interface MetricAlarmDefinition {
  readonly metric: MetricName;
  readonly severity: 'critical' | 'warning';
  /** Sum over 5 minutes at or above which the alarm fires. */
  readonly threshold: number;
  readonly description: string;
}

export const METRIC_ALARMS: readonly MetricAlarmDefinition[] = [
  {
    metric: METRICS.rateLimitStoreError,
    severity: 'critical',
    threshold: 1,
    description:
      'The rate-limit store failed or timed out: requests are being refused with 503 rate_limit_config_error. Check the rate-limit table and DynamoDB health.',
  },
  {
    metric: METRICS.configurationError,
    severity: 'critical',
    threshold: 1,
    description:
      'A function is missing a setting (secret, table, key) and is refusing requests with 503. Check its environment and the JWT secret.',
  },
  {
    metric: METRICS.unhandledError,
    severity: 'warning',
    threshold: 5,
    description: 'Requests failed with 500 internal_error. Read the function logs for the request ids.',
  },
  {
    metric: METRICS.backupAttemptWithoutKey,
    severity: 'critical',
    threshold: 1,
    description:
      'A backup was requested or scheduled while BACKUP_KMS_KEY_ID is not set: nothing was exported. Search the logs for event backup_attempt_without_key (caller, ip) and restore the key setting.',
  },
  {
    metric: METRICS.googleAdsDisconnected,
    severity: 'critical',
    threshold: 1,
    description:
      "Google refused a tenant's refresh token (invalid_grant): its integration is marked disconnected and its conversions wait in the conversions dead-letter queue. Ask the tenant to reconnect Google Ads, then redrive.",
  },
  {
    metric: METRICS.googleAdsConfigurationError,
    severity: 'warning',
    threshold: 1,
    description:
      "Google Ads refused a tenant's uploads for its configuration (permission, conversion action, customer data terms, OAuth client, or a connection without the Data Manager permission): its conversions wait in the conversions dead-letter queue. Read the upload batch records and last_error, fix the settings or reconnect, then redrive.",
  },
  {
    metric: METRICS.googleAdsNeedsConfiguration,
    severity: 'warning',
    threshold: 1,
    description:
      "Google refused a tenant's conversions matched on user data for its Google Ads account's settings (enhanced conversions for leads not turned on, customer data terms not accepted, or Google's data policy): its Google integration shows status needs_configuration with Google's reason (GET /api/v1/integrations) and its Google conversions wait in the conversion log, nothing dead-lettered. Ask the tenant's admin to fix the account in Google Ads, or turn enhanced_conversions_for_leads off, and save PUT /api/v1/integrations/google-ads: the waiting conversions are queued again at once.",
  },
  {
    metric: METRICS.googleAdsNotAllowlisted,
    severity: 'critical',
    threshold: 1,
    description:
      "Google refused the platform's developer token for click conversion uploads (CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE) on GOOGLE_ADS_UPLOAD_API=google_ads_api: not a tenant's fault and not transient. Every tenant's Google conversions wait in the conversions dead-letter queue. Set GOOGLE_ADS_UPLOAD_API=data_manager (the default), deploy, then redrive.",
  },
  {
    metric: METRICS.metaDisconnected,
    severity: 'critical',
    threshold: 1,
    description:
      "Meta refused a tenant's Conversions API access token (OAuthException 190/102): its Meta integration is marked disconnected (GET the conversion log: last_error says so) and its Meta events wait, other tenants unaffected. Ask the tenant's admin to create a new token in Events Manager and PUT /api/v1/integrations/meta: the waiting events are sent again at once.",
  },
  {
    metric: METRICS.metaConfigurationError,
    severity: 'critical',
    threshold: 1,
    description:
      'Meta answered 2635: the Graph API version the uploader calls is no longer served, so no Meta event goes out for any tenant; they wait. Set META_GRAPH_API_VERSION to a served version (developers.facebook.com/docs/graph-api/changelog) and redeploy, then redrive the conversions dead-letter queue where the waiting events are parked.',
  },
];

/** The providers behind a circuit breaker (the `provider` dimension of the circuit metrics). */
export const CIRCUIT_PROVIDERS = ['google_ads', 'meta', 'stripe'] as const;

export interface CircuitAlarmDefinition {
  readonly severity: 'critical' | 'warning';
  /** Seconds a circuit has been open (`CircuitOpenSeconds`, maximum over 5 minutes) at which it fires. */
  readonly openSeconds: number;
  readonly description: string;
}

/**
 * A provider's circuit open longer than 30 minutes pages: one alarm per provider, not one per
 * queue, and queued work waits meanwhile (nothing is dead-lettered, so the DLQ alarms stay quiet).
 * Emitted while calls are refused, so the alarm clears (no data) once the circuit closes. No
 * earlier warning: a circuit open a few minutes is waited out, nobody acts on it.
 */
export const CIRCUIT_ALARMS: readonly CircuitAlarmDefinition[] = [
  {
    severity: 'critical',
    openSeconds: 1800,
    description:
      'open for more than 30 minutes: conversions or billing events are waiting and the billing portal answers 503. Check the provider status page and the probe errors in the logs (event circuit_state_change); force the circuit closed only once the provider is known to be up (npm run ops -- circuit close).',
  },
];
