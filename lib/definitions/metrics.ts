/**
 * Application metrics the functions emit (CloudWatch EMF, namespace `AdsEngineer`, dimensions
 * `service` and `stage`) that page or warn on-call. The functions name metrics from here and the
 * monitoring construct alarms on them, so a name cannot drift between the two. Pure data.
 */
export const METRIC_NAMESPACE = 'AdsEngineer';
export const SERVICE_NAME = 'adsengineer';

export const METRICS = {
  rateLimitStoreError: 'RateLimitStoreError',
  configurationError: 'ConfigurationError',
  unhandledError: 'UnhandledError',
  backupAttemptWithoutKey: 'BackupAttemptWithoutKey',
  googleAdsDisconnected: 'GoogleAdsDisconnected',
  googleAdsConfigurationError: 'GoogleAdsConfigurationError',
  googleAdsNotAllowlisted: 'GoogleAdsNotAllowlisted',
  metaDisconnected: 'MetaDisconnected',
  metaConfigurationError: 'MetaConfigurationError',
  /** Circuit breakers: every state change (dimensions provider, state). */
  circuitStateChange: 'CircuitStateChange',
  /** Circuit breakers: seconds since the circuit opened, while it refuses calls (dimension provider). */
  circuitOpenSeconds: 'CircuitOpenSeconds',
} as const;

export type MetricName = (typeof METRICS)[keyof typeof METRICS];

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
 * A provider's circuit open longer than 5 minutes warns, longer than 30 minutes pages: one alarm
 * per provider, not one per queue, and queued work waits meanwhile (nothing is dead-lettered, so
 * the DLQ alarms stay quiet). Emitted while calls are refused, so the alarm clears (no data)
 * once the circuit closes.
 */
export const CIRCUIT_ALARMS: readonly CircuitAlarmDefinition[] = [
  {
    severity: 'warning',
    openSeconds: 300,
    description:
      'open for more than 5 minutes: calls are refused, queued work waits and flows again when the provider recovers. Check the provider status page and GET /health; see README "Circuit breakers".',
  },
  {
    severity: 'critical',
    openSeconds: 1800,
    description:
      'open for more than 30 minutes: conversions or billing events are waiting and the billing portal answers 503. Check the provider status page and the probe errors in the logs (event circuit_state_change); force the circuit closed only once the provider is known to be up (npm run ops -- circuit close).',
  },
];
