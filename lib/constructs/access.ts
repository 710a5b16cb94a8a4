import type { FunctionDefinition, QueueId, TableAccess, TableId } from '../definitions/resources';
import { type AuthKind, ROUTES, type RouteDefinition } from '../definitions/routes';

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
  consume: [
    'sqs:ReceiveMessage',
    'sqs:DeleteMessage',
    'sqs:ChangeMessageVisibility',
    'sqs:GetQueueAttributes',
  ],
  inspect: ['sqs:GetQueueAttributes'],
} as const;

export const KMS_ACTIONS = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'] as const;
export const LOG_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents'] as const;
export const SECRET_ACTIONS = ['secretsmanager:GetSecretValue'] as const;
export const BACKUP_OBJECT_ACTIONS = ['s3:PutObject', 's3:GetObject'] as const;
export const BACKUP_BUCKET_ACTIONS = ['s3:ListBucket'] as const;

/** Route auth kinds whose handlers sign or verify our own HS256 tokens: they need the JWT secret. */
const TOKEN_AUTH: readonly AuthKind[] = ['jwt', 'apiKey', 'platformAdmin'];
/** Routes under this path are rate limited: their function needs the rate-limit counters. */
export const RATE_LIMITED_PREFIX = '/api/v1/';
/** Routes under this path create and read encrypted backups in the backup bucket. */
export const BACKUP_ROUTE_PREFIX = '/api/v1/admin/backups';
/** Backup objects live under this key prefix; the functions' S3 grant stops there. */
export const BACKUP_KEY_PREFIX = 'backups/';

export interface TableGrant {
  readonly table: TableId;
  readonly actions: readonly string[];
}

export interface QueueGrant {
  readonly queue: QueueId;
  readonly actions: readonly string[];
  /** `inspect` also reads the dead-letter queue's attributes (depth for health). */
  readonly includeDlq: boolean;
}

export interface FunctionAccess {
  readonly tables: readonly TableGrant[];
  readonly queues: readonly QueueGrant[];
  readonly jwtSecret: boolean;
  readonly emailHashKey: boolean;
  readonly backups: boolean;
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
  const limitedRoute = own.find((route) => route.path.startsWith(RATE_LIMITED_PREFIX));
  if (limitedRoute && !definition.tables.rateLimits) {
    throw new Error(
      `Function ${definition.id} serves ${limitedRoute.method} ${limitedRoute.path} (rate limited) but its definition lacks tables.rateLimits: 'counter'`,
    );
  }
  return {
    tables: entriesOf(definition.tables).map(([table, mode]) => ({ table, actions: tableActions(mode) })),
    queues: entriesOf(definition.queues).map(([queue, mode]) => ({
      queue,
      actions: QUEUE_ACTIONS[mode],
      includeDlq: mode === 'inspect',
    })),
    jwtSecret: definition.jwtSecret === 'read',
    emailHashKey: definition.emailHashKey === 'read',
    backups: own.some((route) => route.path.startsWith(BACKUP_ROUTE_PREFIX)),
  };
}
