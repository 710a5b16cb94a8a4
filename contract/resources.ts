/**
 * The one list of tables, queues and functions. The CDK stack and the local emulator bootstrap
 * both read it, so a resource is declared exactly once. Pure data: no AWS SDK or CDK imports,
 * because Lambda code reads the environment variable names from here too.
 */

export type TableId = 'tenants' | 'leads' | 'conversions' | 'audit' | 'rateLimits' | 'dedup' | 'system';
export type QueueId = 'webhooks' | 'conversions' | 'backups';
export type FunctionId =
  | 'health'
  | 'api'
  | 'admin'
  | 'leads'
  | 'gdpr'
  | 'ingest'
  | 'webhookWorker'
  | 'conversionUploader'
  | 'backupWorker';

export interface IndexDefinition {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
  /**
   * What the index holds besides its keys and the table's: every attribute (`ALL`, the default)
   * or nothing else (`KEYS_ONLY`). The deployed index and the benchmark's write-unit accounting
   * (bench/support/dynamo-units.ts) both read it.
   */
  readonly projection?: 'ALL' | 'KEYS_ONLY';
}

export interface TableDefinition {
  readonly id: TableId;
  /** Environment variable through which functions learn the physical table name. */
  readonly envVar: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
  /**
   * Epoch-seconds attribute DynamoDB expires items by (functions/shared/features/retention/rules.ts). TTL
   * deletes in the background, so read paths still filter expired items.
   */
  readonly ttlAttribute?: string;
  readonly indexes: readonly IndexDefinition[];
  /** The access patterns the keys serve, so nobody reaches for a scan. */
  readonly accessPatterns: readonly string[];
}

const gsi = (n: number, withSortKey = true): IndexDefinition => ({
  name: `gsi${n}`,
  partitionKey: `gsi${n}pk`,
  ...(withSortKey ? { sortKey: `gsi${n}sk` } : {}),
});

export const TABLES: readonly TableDefinition[] = [
  {
    id: 'tenants',
    envVar: 'TENANTS_TABLE',
    partitionKey: 'pk',
    sortKey: 'sk',
    indexes: [gsi(1)],
    accessPatterns: [
      'tenant by id: pk=TENANT#<id>, sk=META',
      'list tenants: gsi1pk=TENANTS, gsi1sk=<created_at>#<id>',
      'api keys of a tenant: pk=TENANT#<id>, sk begins_with APIKEY#',
      'api key by hash: gsi1pk=APIKEY#<sha256>',
      'integration settings: pk=TENANT#<id>, sk=INTEGRATION#<kind>',
      'webhook source to its tenants: pk=SOURCE#<shopify|woocommerce|ghl>#<domain | store url | token hash>, sk=TENANT#<id> (one item per connected tenant, each with its sealed secret; sk=SOURCE, a single tenant, as first stored)',
      'billing status of a tenant: on its META item (Stripe subscription events)',
    ],
  },
  {
    id: 'leads',
    envVar: 'LEADS_TABLE',
    partitionKey: 'pk',
    sortKey: 'sk',
    ttlAttribute: 'expires_at',
    // gsi1 (leads by email hash) is neither written nor read any more: the email dedup keys answer
    // it. It stays for one release, so the version before (a canary's rest, a rollback) still finds
    // what it queries; the next release removes it.
    indexes: [gsi(1), gsi(2)],
    accessPatterns: [
      'lead by id: pk=TENANT#<id>, sk=LEAD#<lead id>',
      'leads of a tenant by creation time: pk=TENANT#<id>, sk between LEAD#<ulid range>',
      'leads by status: gsi2pk=TENANT#<id>#STATUS#<status>, gsi2sk=<created_at>',
      'dedup keys (uniqueness items, claimed by conditional put before the lead is written): pk=TENANT#<id>, sk=DEDUP#EXT#<external id> | DEDUP#EC#<email hmac>#<click id or ->',
      'leads by email hash: pk=TENANT#<id>, sk begins_with DEDUP#EC#<email hmac># (their lead_id)',
    ],
  },
  {
    id: 'conversions',
    envVar: 'CONVERSIONS_TABLE',
    partitionKey: 'pk',
    sortKey: 'sk',
    ttlAttribute: 'expires_at',
    // gsi2 (conversions by lead) is neither written nor read any more: a lead's conversions are
    // found by their ids. It stays for one release, as the leads' gsi1, then goes.
    indexes: [gsi(1), gsi(2)],
    accessPatterns: [
      'conversion by id: pk=TENANT#<id>, sk=CONV#<conversion id>',
      "conversions by status: gsi1pk=TENANT#<id>#STATUS#<status>, gsi1sk=<conversion_time> (every status but uploaded, which leaves the index: those are the tenant's CONV# items filtered)",
      'conversions of an order or a lead: by id, derived from the order (<source>:<order id>) or the lead (the lead records its orders)',
      'upload requests (batch records) of a tenant: pk=TENANT#<id>, sk begins_with BATCH#',
      'adjustments of a conversion: pk=TENANT#<id>, sk begins_with ADJ#<conversion id>#',
    ],
  },
  {
    id: 'audit',
    envVar: 'AUDIT_TABLE',
    partitionKey: 'pk',
    sortKey: 'sk',
    ttlAttribute: 'expires_at',
    indexes: [gsi(1)],
    accessPatterns: [
      'audit of a subject: pk=TENANT#<id>#SUBJECT#<email hmac>, sk=<timestamp>#<id>',
      'audit of a tenant: gsi1pk=TENANT#<id>, gsi1sk=<timestamp>#<id>',
    ],
  },
  {
    id: 'rateLimits',
    envVar: 'RATE_LIMIT_TABLE',
    partitionKey: 'pk',
    ttlAttribute: 'expires_at',
    indexes: [],
    accessPatterns: ['counter: pk=<scope>#<key>#<window start>, one atomic UpdateItem per check'],
  },
  {
    id: 'dedup',
    envVar: 'DEDUP_TABLE',
    partitionKey: 'pk',
    ttlAttribute: 'expires_at',
    indexes: [],
    accessPatterns: [
      'handled webhook delivery: pk=WEBHOOK#<hash of tenant, source and delivery id>, put once handled',
    ],
  },
  {
    id: 'system',
    envVar: 'SYSTEM_TABLE',
    partitionKey: 'pk',
    sortKey: 'sk',
    ttlAttribute: 'expires_at',
    indexes: [],
    accessPatterns: [
      'circuit breaker state: pk=BREAKER#<platform>, sk=STATE',
      'backup jobs: pk=BACKUP#<job id>, sk=JOB',
      'list backup jobs, newest first: pk=BACKUPS, sk=<job id> (ids sort by creation time)',
      'single-use OAuth state: pk=OAUTH_STATE#<nonce>, sk=STATE',
      'health probe: pk=HEALTH, sk=PROBE',
    ],
  },
];

export interface QueueConsumerDefinition {
  readonly functionId: FunctionId;
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  /**
   * Concurrent invocations at most (the event source's maximum concurrency, 2 to 1,000). Set
   * from what is downstream (the ad platforms' quotas, DynamoDB partitions), not left to scale
   * with the queue's depth.
   */
  readonly maxConcurrency?: number;
}

/**
 * Conversion uploaders running at once. With batches of 10,000 conversions (five Data Manager
 * requests each), two of them stay far below Google's 300 requests a minute per Cloud project;
 * each paces itself to its share of that quota.
 */
export const CONVERSIONS_CONSUMER_CONCURRENCY = 2;

export interface QueueDefinition {
  readonly id: QueueId;
  readonly envVar: string;
  readonly dlqEnvVar: string;
  /** Receives before SQS moves a message to the dead-letter queue. */
  readonly maxReceiveCount: number;
  readonly retentionDays: number;
  readonly dlqRetentionDays: number;
  /** Without a consumer function yet, the visibility timeout a consumer of this queue is sized to. */
  readonly consumerTimeoutSeconds: number;
  readonly consumer?: QueueConsumerDefinition;
}

/**
 * `counter`: the rate limiter's one atomic UpdateItem. `append`: put new items and read them,
 * never change or delete one (the audit trail).
 */
export type TableAccess = 'read' | 'write' | 'readWrite' | 'counter' | 'append';

/**
 * Encrypted backups (docs/operations.md, Backups):
 * - `request`: starts and reads backup jobs; learns BACKUP_KMS_KEY_ID to refuse when none is set.
 * - `export`: scans every table and writes encrypted exports below `backups/` in the backup bucket
 *   with data keys of the backup key. Scan is granted for this and nothing else.
 */
export type BackupAccess = 'request' | 'export';

/** The encryption-context purposes the service's own KMS calls name (`kms:EncryptionContext:purpose`). */
export const KMS_PURPOSES = {
  /** Tenant credentials, sealed with context {purpose, tenant_id, name}. */
  credential: 'credential',
  /** Backup exports, with context {purpose, scope: <job id>}. */
  backup: 'backup',
  /** Health's round trip through the key, with context {purpose, probe}. */
  health: 'health',
} as const;
export type KmsPurpose = (typeof KMS_PURPOSES)[keyof typeof KMS_PURPOSES];

/** Every credential name a tenant's secrets are sealed under (`kms:EncryptionContext:name`). */
export const CREDENTIAL_NAMES = {
  shopifyWebhookSecret: 'shopify.webhook_secret',
  wooCommerceWebhookSecret: 'woocommerce.webhook_secret',
  googleAdsClientSecret: 'google_ads.client_secret',
  googleAdsRefreshToken: 'google_ads.refresh_token',
  metaAccessToken: 'meta.access_token',
} as const;
export type CredentialName = (typeof CREDENTIAL_NAMES)[keyof typeof CREDENTIAL_NAMES];

/**
 * A function's own use of the data key, by encryption-context purpose: `generate` data keys (seal,
 * export), `decrypt` them (open), or `encrypt` a small value directly (health). Its role may do
 * exactly that, under a condition on the context; what the services do with the key on its behalf
 * (SQS, Secrets Manager, DynamoDB, S3) is granted apart, only through those services.
 */
export interface KmsUse {
  readonly purpose: KmsPurpose;
  readonly actions: readonly ('generate' | 'decrypt' | 'encrypt')[];
  /** For credentials: the names it may seal or open. */
  readonly names?: readonly CredentialName[];
}

const ALL_CREDENTIALS = Object.values(CREDENTIAL_NAMES);

/** Seals (generates data keys for) the named credentials. */
const sealsCredentials = (names: readonly CredentialName[]): KmsUse => ({
  purpose: KMS_PURPOSES.credential,
  actions: ['generate'],
  names,
});

/** Opens (decrypts the data keys of) the named credentials. */
const opensCredentials = (names: readonly CredentialName[]): KmsUse => ({
  purpose: KMS_PURPOSES.credential,
  actions: ['decrypt'],
  names,
});

export interface FunctionDefinition {
  readonly id: FunctionId;
  /** Entry file, relative to the repository root; exports `handler`. */
  readonly entry: string;
  readonly description: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /**
   * Concurrency kept for this function alone (and its ceiling), where it must never be starved
   * by the others sharing the account's pool.
   */
  readonly reservedConcurrency?: number;
  /**
   * Least privilege: the tables it touches and how. `counter` is the rate limiter's single
   * atomic UpdateItem and nothing else.
   */
  readonly tables: Partial<Record<TableId, TableAccess>>;
  /**
   * Queues it sends to, consumes (and dead-letters to), only inspects (attributes, for health),
   * redrives (reads its dead-letter queue, sends back to the queue), or purges (erasure: reads and
   * deletes dead letters naming an erased person, nothing on the queue itself).
   */
  readonly queues: Partial<Record<QueueId, 'send' | 'consume' | 'inspect' | 'redrive' | 'purge'>>;
  /** Reads the JWT signing secret (verifies or issues tokens). */
  readonly jwtSecret?: 'read';
  /** Reads the key of the keyed email hash (looks people up by email). */
  readonly emailHashKey?: 'read';
  /** Reads the Stripe endpoint's signing secret (verifies billing webhooks). */
  readonly stripeWebhookSecret?: 'read';
  /** Reads the Stripe secret API key (calls Stripe: billing portal, subscriptions). */
  readonly stripeApiKey?: 'read';
  /** Reads the platform's Google Ads API developer token (retractions, the Google Ads API transport). */
  readonly googleAdsDeveloperToken?: 'read';
  readonly backups?: BackupAccess;
  /** Its own KMS calls, by purpose; none when absent (it reaches the key only through services). */
  readonly kms?: readonly KmsUse[];
  /** Files it reads at run time (repository paths), copied next to its bundle's index.js. */
  readonly files?: readonly string[];
}

export const FUNCTIONS: readonly FunctionDefinition[] = [
  {
    id: 'health',
    entry: 'functions/health/handler.ts',
    description: 'Liveness and readiness summary',
    memoryMb: 256,
    timeoutSeconds: 5,
    tables: { system: 'readWrite' },
    queues: { webhooks: 'inspect', conversions: 'inspect', backups: 'inspect' },
    kms: [{ purpose: KMS_PURPOSES.health, actions: ['encrypt', 'decrypt'] }],
  },
  {
    id: 'api',
    entry: 'functions/api/handler.ts',
    description:
      'Tenant API: token exchange, API keys, integrations (Google Ads OAuth states in system; a reconnected Meta pixel queues its waiting conversions again), billing (Stripe, breaker state in system)',
    memoryMb: 512,
    timeoutSeconds: 10,
    tables: { tenants: 'readWrite', rateLimits: 'counter', system: 'readWrite', conversions: 'read' },
    queues: { conversions: 'send' },
    jwtSecret: 'read',
    stripeApiKey: 'read',
    // Seals every credential a tenant connects; opens only the OAuth client secret (code exchange).
    kms: [sealsCredentials(ALL_CREDENTIALS), opensCredentials([CREDENTIAL_NAMES.googleAdsClientSecret])],
    // GET /api/v1/storefront.js serves the script as committed.
    files: ['functions/shared/features/storefront/storefront.js'],
  },
  {
    id: 'admin',
    entry: 'functions/admin/handler.ts',
    description: 'Platform administration: tenants, their API keys, backup jobs, dead letters',
    memoryMb: 512,
    timeoutSeconds: 10,
    // audit: a redrive drops (and audits) dead letters of persons erased since, by their tombstones.
    tables: { tenants: 'readWrite', rateLimits: 'counter', system: 'readWrite', audit: 'append' },
    queues: { backups: 'send', webhooks: 'redrive', conversions: 'redrive' },
    jwtSecret: 'read',
    emailHashKey: 'read',
    backups: 'request',
  },
  {
    id: 'leads',
    entry: 'functions/leads/handler.ts',
    description:
      'Leads: capture with consent (and Meta Lead events when the tenant asks), list, read, status changes (won queues conversions)',
    memoryMb: 512,
    timeoutSeconds: 15,
    // tenants: the Meta integration's lead_events setting.
    tables: {
      leads: 'readWrite',
      conversions: 'readWrite',
      audit: 'append',
      rateLimits: 'counter',
      tenants: 'read',
    },
    queues: { conversions: 'send' },
    jwtSecret: 'read',
    emailHashKey: 'read',
  },
  {
    id: 'gdpr',
    entry: 'functions/gdpr/handler.ts',
    description: 'Data-subject rights: export, erasure, rectification, restriction, consent, audit trail',
    memoryMb: 512,
    timeoutSeconds: 30,
    // tenants: the caller's tenant must be active (and its API key unrevoked) for its token to
    // work, and the tenant's retention sets when a changed lead expires.
    tables: {
      leads: 'readWrite',
      conversions: 'readWrite',
      audit: 'append',
      rateLimits: 'counter',
      tenants: 'read',
    },
    // Erasure deletes the dead-lettered deliveries that name the erased person.
    queues: { webhooks: 'purge' },
    jwtSecret: 'read',
    emailHashKey: 'read',
  },
  {
    id: 'ingest',
    entry: 'functions/ingest/handler.ts',
    description: 'Verifies webhook signatures on the raw body and queues deliveries durably',
    memoryMb: 512,
    timeoutSeconds: 10,
    // Webhook senders give up (Shopify removes a subscription after repeated failures): a burst
    // of API traffic must never take the concurrency ingest needs.
    reservedConcurrency: 50,
    tables: { tenants: 'read', rateLimits: 'counter' },
    queues: { webhooks: 'send' },
    stripeWebhookSecret: 'read',
    // Opens the webhook secrets of the shops and stores it verifies deliveries for.
    kms: [
      opensCredentials([CREDENTIAL_NAMES.shopifyWebhookSecret, CREDENTIAL_NAMES.wooCommerceWebhookSecret]),
    ],
  },
  {
    id: 'webhookWorker',
    entry: 'functions/webhook-worker/handler.ts',
    description: 'Processes queued webhook deliveries idempotently: leads, conversions, billing status',
    memoryMb: 512,
    timeoutSeconds: 30,
    // system: the Stripe circuit breaker's state.
    tables: {
      dedup: 'readWrite',
      tenants: 'readWrite',
      leads: 'readWrite',
      conversions: 'readWrite',
      audit: 'append',
      system: 'readWrite',
    },
    queues: { webhooks: 'consume', conversions: 'send' },
    emailHashKey: 'read',
    stripeApiKey: 'read',
  },
  {
    id: 'conversionUploader',
    entry: 'functions/conversion-uploader/handler.ts',
    description:
      'Uploads queued conversions to Google Ads and Meta in batches per tenant, and Google adjustments; results to the conversion log',
    memoryMb: 1024,
    // A full batch: 10,000 conversions read and settled 25 at a time, five Google requests.
    timeoutSeconds: 120,
    // tenants: reads the Google Ads connection, marks it disconnected on invalid_grant.
    // system: the providers' circuit breaker state.
    tables: { tenants: 'readWrite', leads: 'read', conversions: 'readWrite', system: 'readWrite' },
    queues: { conversions: 'consume' },
    googleAdsDeveloperToken: 'read',
    // Opens the ad platforms' credentials it uploads with.
    kms: [
      opensCredentials([
        CREDENTIAL_NAMES.googleAdsClientSecret,
        CREDENTIAL_NAMES.googleAdsRefreshToken,
        CREDENTIAL_NAMES.metaAccessToken,
      ]),
    ],
  },
  {
    id: 'backupWorker',
    entry: 'functions/backup-worker/handler.ts',
    description: 'Exports every table, encrypted, to the backup bucket (one job per message)',
    memoryMb: 1024,
    timeoutSeconds: 900,
    tables: { system: 'readWrite' },
    queues: { backups: 'consume' },
    backups: 'export',
    kms: [{ purpose: KMS_PURPOSES.backup, actions: ['generate'] }],
  },
];

/** SQS guidance: a visibility timeout of six times the consumer's timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

export const QUEUES: readonly QueueDefinition[] = [
  {
    id: 'webhooks',
    envVar: 'WEBHOOKS_QUEUE_URL',
    dlqEnvVar: 'WEBHOOKS_DLQ_URL',
    maxReceiveCount: 3,
    retentionDays: 4,
    dlqRetentionDays: 14,
    consumerTimeoutSeconds: 30,
    // Ten workers at most: each webhook costs about 10 write units (npm run bench -- units), and a
    // tenant's leads share one partition key, whose ceiling is 1,000 write units a second; ten
    // batches of ten in flight stay below it for a busy tenant, and a backlog drains in order.
    consumer: { functionId: 'webhookWorker', batchSize: 10, maxBatchingWindowSeconds: 1, maxConcurrency: 10 },
  },
  {
    id: 'conversions',
    envVar: 'CONVERSIONS_QUEUE_URL',
    dlqEnvVar: 'CONVERSIONS_DLQ_URL',
    maxReceiveCount: 3,
    retentionDays: 4,
    dlqRetentionDays: 14,
    consumerTimeoutSeconds: 120,
    // Up to 10,000 messages per invocation, gathered for up to 30 s, so the uploader fills
    // requests of 2,000 conversions (Google's limit per events:ingest and uploadClickConversions call). The local
    // poller hands over at most 10 at a time (SQS's receive limit).
    consumer: {
      functionId: 'conversionUploader',
      batchSize: 10_000,
      maxBatchingWindowSeconds: 30,
      maxConcurrency: CONVERSIONS_CONSUMER_CONCURRENCY,
    },
  },
  {
    // Backup jobs: one message per job, from POST /api/v1/admin/backups and the daily schedule.
    id: 'backups',
    envVar: 'BACKUPS_QUEUE_URL',
    dlqEnvVar: 'BACKUPS_DLQ_URL',
    maxReceiveCount: 3,
    retentionDays: 4,
    dlqRetentionDays: 14,
    consumerTimeoutSeconds: 900,
    consumer: { functionId: 'backupWorker', batchSize: 1, maxBatchingWindowSeconds: 0, maxConcurrency: 2 },
  },
];

/** The definition with this id; an unknown id is a programming error. */
function byId<T extends { readonly id: string }>(definitions: readonly T[], id: T['id'], kind: string): T {
  const found = definitions.find((d) => d.id === id);
  if (!found) throw new Error(`Unknown ${kind} ${id}`);
  return found;
}

export function functionDefinition(id: FunctionId): FunctionDefinition {
  return byId(FUNCTIONS, id, 'function');
}

export function tableDefinition(id: TableId): TableDefinition {
  return byId(TABLES, id, 'table');
}

export function queueDefinition(id: QueueId): QueueDefinition {
  return byId(QUEUES, id, 'queue');
}

export function visibilityTimeoutSeconds(queue: QueueDefinition): number {
  const timeout = queue.consumer
    ? functionDefinition(queue.consumer.functionId).timeoutSeconds
    : queue.consumerTimeoutSeconds;
  return timeout * VISIBILITY_TIMEOUT_FACTOR;
}

/** Environment variables every function gets, besides its tables' and queues'. */
export const COMMON_ENV_VARS = {
  stage: 'STAGE',
  kmsKeyId: 'DATA_KMS_KEY_ID',
  backupKmsKeyId: 'BACKUP_KMS_KEY_ID',
  backupBucket: 'BACKUP_BUCKET',
  jwtSecretArn: 'JWT_SECRET_ARN',
  emailHashKeyArn: 'EMAIL_HASH_KEY_ARN',
  stripeWebhookSecretArn: 'STRIPE_WEBHOOK_SECRET_ARN',
  stripeApiKeyArn: 'STRIPE_API_KEY_ARN',
  googleAdsDeveloperTokenArn: 'GOOGLE_ADS_DEVELOPER_TOKEN_ARN',
  googleAdsUploadApi: 'GOOGLE_ADS_UPLOAD_API',
  platformOrgId: 'PLATFORM_ORG_ID',
  publicBaseUrl: 'PUBLIC_BASE_URL',
} as const;
