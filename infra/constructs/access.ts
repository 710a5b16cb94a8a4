import { BACKUP_KEY_PREFIX } from '../../contract/backups';
import {
  type BackupAccess,
  type FunctionDefinition,
  type KmsUse,
  type QueueId,
  TABLES,
  type TableAccess,
  type TableId,
} from '../../contract/resources';
import { type AuthKind, ROUTES, type RouteDefinition } from '../../contract/routes';

/**
 * What a function may touch, derived from its definition and its routes. Pure: the Functions
 * construct turns it into IAM statements and environment variables with concrete ARNs.
 */

export const TABLE_ACTIONS = {
  read: [
    'dynamodb:GetItem',
    'dynamodb:Query',
    'dynamodb:BatchGetItem',
    'dynamodb:ConditionCheckItem',
    'dynamodb:DescribeTable',
  ],
  write: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'],
  counter: ['dynamodb:UpdateItem'],
  append: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:Query'],
} as const;

export const QUEUE_ACTIONS = {
  send: ['sqs:SendMessage', 'sqs:GetQueueAttributes'],
  // A consumer also sends to its own queue: delayed copies of waiting work, follow-ups
  // (request status reads, adjustments waiting for their conversion's upload).
  consume: [
    'sqs:ReceiveMessage',
    'sqs:DeleteMessage',
    'sqs:ChangeMessageVisibility',
    'sqs:GetQueueAttributes',
    'sqs:SendMessage',
  ],
  inspect: ['sqs:GetQueueAttributes'],
  redrive: ['sqs:SendMessage'],
  purge: [],
} as const;

/** What each queue mode may do on the queue's dead-letter queue. */
export const DLQ_ACTIONS = {
  send: [],
  /** A consumer dead-letters a delivery no retry can mend at once, with the reason. */
  consume: ['sqs:SendMessage'],
  /** Health reads the depth. */
  inspect: ['sqs:GetQueueAttributes'],
  /** Inspect dead letters and move them back to the queue. */
  redrive: [
    'sqs:ReceiveMessage',
    'sqs:DeleteMessage',
    'sqs:ChangeMessageVisibility',
    'sqs:GetQueueAttributes',
  ],
  /** Erasure: read dead letters, delete those naming the erased person, release the others. */
  purge: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'],
} as const;

/** A function's own KMS calls, by what it does with the key (resources.ts `kms`). */
export const KMS_USE_ACTIONS = {
  generate: 'kms:GenerateDataKey',
  decrypt: 'kms:Decrypt',
  encrypt: 'kms:Encrypt',
} as const;
/** What SQS, Secrets Manager, DynamoDB and S3 ask KMS for on a function's behalf. */
export const KMS_SERVICE_ACTIONS = ['kms:Decrypt', 'kms:GenerateDataKey'] as const;
/** The services that use the data key on a function's behalf (`kms:ViaService` <service>.<region>.amazonaws.com). */
export type KeyService = 'dynamodb' | 'sqs' | 'secretsmanager' | 's3';
export const LOG_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents'] as const;
export const SECRET_ACTIONS = ['secretsmanager:GetSecretValue'] as const;
/** Writing an export in parts, and abandoning a failed one. No read, no list, no delete. */
export const BACKUP_EXPORT_ACTIONS = ['s3:PutObject', 's3:AbortMultipartUpload'] as const;
/** The one extra table action of an exporting function, on every table (not on indexes). */
export const EXPORT_TABLE_ACTIONS = ['dynamodb:Scan'] as const;

/**
 * The secrets a definition may read (`jwtSecret: 'read'`...), each in the Storage construct under
 * the same name and granted by a statement named after it.
 */
export const FUNCTION_SECRETS = [
  'jwtSecret',
  'emailHashKey',
  'stripeWebhookSecret',
  'stripeApiKey',
  'googleAdsDeveloperToken',
] as const;
export type FunctionSecret = (typeof FUNCTION_SECRETS)[number];

/** Route auth kinds whose handlers sign or verify our own HS256 tokens: they need the JWT secret. */
const TOKEN_AUTH: readonly AuthKind[] = ['jwt', 'apiKey', 'platformAdmin'];
/** Routes under this path are rate limited: their function needs the rate-limit counters. */
export const RATE_LIMITED_PREFIX = '/api/v1/';
/** Routes under this path start and read backup jobs: their function must declare `backups`. */
export const BACKUP_ROUTE_PREFIX = '/api/v1/admin/backups';
/** Backup objects live under this key prefix; the functions' S3 grant stops there. */
export { BACKUP_KEY_PREFIX };

export interface TableGrant {
  readonly table: TableId;
  readonly actions: readonly string[];
}

export interface QueueGrant {
  readonly queue: QueueId;
  readonly actions: readonly string[];
  /** Actions on the queue's dead-letter queue, none for most modes. */
  readonly dlqActions: readonly string[];
}

export interface FunctionAccess {
  readonly tables: readonly TableGrant[];
  readonly queues: readonly QueueGrant[];
  readonly jwtSecret: boolean;
  readonly emailHashKey: boolean;
  readonly stripeWebhookSecret: boolean;
  readonly stripeApiKey: boolean;
  readonly googleAdsDeveloperToken: boolean;
  /** `request`: the backup key id only; `export`: also the bucket prefix and Scan on `exportTables`. */
  readonly backups?: BackupAccess;
  /** Tables the function scans for an export (every table when it exports, else none). */
  readonly exportTables: readonly TableId[];
  /** Services that reach the data key for it: encrypted tables, queues, secrets, backup objects. */
  readonly keyServices: readonly KeyService[];
  /** Its own KMS calls, each only under an encryption context of its purpose. */
  readonly kms: readonly KmsUse[];
}

function tableActions(mode: TableAccess): readonly string[] {
  if (mode === 'readWrite') return [...TABLE_ACTIONS.read, ...TABLE_ACTIONS.write];
  return TABLE_ACTIONS[mode];
}

function entriesOf<K extends string, V>(record: Partial<Record<K, V>>): [K, V][] {
  return Object.entries(record).filter((entry): entry is [K, V] => entry[1] !== undefined);
}

export function functionAccess(
  definition: FunctionDefinition,
  routes: readonly RouteDefinition[] = ROUTES,
): FunctionAccess {
  const own = routes.filter((route) => route.functionId === definition.id);
  const tokenRoute = own.find((route) => TOKEN_AUTH.includes(route.auth));
  if (tokenRoute && definition.jwtSecret !== 'read') {
    throw new Error(
      `Function ${definition.id} serves ${tokenRoute.method} ${tokenRoute.path} (auth ${tokenRoute.auth}) but its definition lacks jwtSecret: 'read'`,
    );
  }
  // A token is judged against its tenant's status (and an API key's) in the tenants table.
  const tenants = definition.tables.tenants;
  if (tokenRoute && tenants !== 'read' && tenants !== 'readWrite') {
    throw new Error(
      `Function ${definition.id} serves ${tokenRoute.method} ${tokenRoute.path} (auth ${tokenRoute.auth}) but its definition lacks tables.tenants: 'read'`,
    );
  }
  const limitedRoute = own.find((route) => route.path.startsWith(RATE_LIMITED_PREFIX));
  if (limitedRoute && !definition.tables.rateLimits) {
    throw new Error(
      `Function ${definition.id} serves ${limitedRoute.method} ${limitedRoute.path} (rate limited) but its definition lacks tables.rateLimits: 'counter'`,
    );
  }
  const backupRoute = own.find((route) => route.path.startsWith(BACKUP_ROUTE_PREFIX));
  if (backupRoute && !definition.backups) {
    throw new Error(
      `Function ${definition.id} serves ${backupRoute.method} ${backupRoute.path} (backups) but its definition lacks backups: 'request'`,
    );
  }
  const queueModes = Object.values(definition.queues);
  const secrets = FUNCTION_SECRETS.some((secret) => definition[secret] === 'read');
  const keyServices: KeyService[] = [
    ...(Object.keys(definition.tables).length || definition.backups ? ['dynamodb' as const] : []),
    // Sending, receiving and deleting touch message bodies; reading attributes does not.
    ...(queueModes.some((mode) => mode !== 'inspect') ? ['sqs' as const] : []),
    ...(secrets ? ['secretsmanager' as const] : []),
    ...(definition.backups === 'export' ? ['s3' as const] : []),
  ];
  return {
    keyServices,
    kms: definition.kms ?? [],
    tables: entriesOf(definition.tables).map(([table, mode]) => ({ table, actions: tableActions(mode) })),
    queues: entriesOf(definition.queues).map(([queue, mode]) => ({
      queue,
      actions: QUEUE_ACTIONS[mode],
      dlqActions: DLQ_ACTIONS[mode],
    })),
    jwtSecret: definition.jwtSecret === 'read',
    emailHashKey: definition.emailHashKey === 'read',
    stripeWebhookSecret: definition.stripeWebhookSecret === 'read',
    stripeApiKey: definition.stripeApiKey === 'read',
    googleAdsDeveloperToken: definition.googleAdsDeveloperToken === 'read',
    ...(definition.backups ? { backups: definition.backups } : {}),
    exportTables: definition.backups === 'export' ? TABLES.map((table) => table.id) : [],
  };
}
