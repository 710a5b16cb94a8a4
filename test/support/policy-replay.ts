import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type FunctionId, QUEUES, TABLES } from '../../contract/resources';
import type { RecordedCall } from '../../functions/shared/platform/aws/recording';
import type { AdsEngineerStack } from '../../infra/stack';
import { asArray, type Json, logicalId, referencedIds, rolePolicyStatements } from '../infra/build';

/** Where the e2e tier's runs leave their record of AWS calls (test/tiers.ts sets it). */
export const AWS_CALLS_DIR = path.resolve(__dirname, '..', '..', 'coverage', 'aws-calls');

/** Every distinct call of a record directory. */
export function readRecord(dir = AWS_CALLS_DIR): RecordedCall[] {
  if (!existsSync(dir)) return [];
  const lines = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.jsonl'))) {
    for (const line of readFileSync(path.join(dir, file), 'utf8').split('\n')) if (line) lines.add(line);
  }
  return [...lines].map((line) => JSON.parse(line) as RecordedCall);
}

/** The IAM action an SDK operation is authorised as. */
const IAM_ACTION: Record<string, string> = {
  'sqs:ChangeMessageVisibilityBatch': 'sqs:ChangeMessageVisibility',
  'sqs:DeleteMessageBatch': 'sqs:DeleteMessage',
  'sqs:SendMessageBatch': 'sqs:SendMessage',
  's3:CreateMultipartUpload': 's3:PutObject',
  's3:UploadPart': 's3:PutObject',
  's3:CompleteMultipartUpload': 's3:PutObject',
};
export const iamAction = (action: string) => IAM_ACTION[action] ?? action;

/** One Allow of a role: an action on a resource pattern, under conditions. */
export interface Permission {
  readonly sid: string;
  readonly action: string;
  readonly resource: string;
  readonly condition: Record<string, Record<string, Json>>;
}

/** The resource-list names of the stack's resources, by logical id. */
function namesOf(stack: AdsEngineerStack): Map<string, string> {
  const names = new Map<string, string>();
  for (const t of TABLES) names.set(logicalId(stack, stack.data.tables.get(t.id)), `table:${t.id}`);
  for (const q of QUEUES) {
    const pair = stack.queues.queues.get(q.id);
    names.set(logicalId(stack, pair.queue), `queue:${q.id}`);
    names.set(logicalId(stack, pair.dlq), `dlq:${q.id}`);
  }
  const storage = stack.storage;
  for (const name of [
    'jwtSecret',
    'emailHashKey',
    'stripeWebhookSecret',
    'stripeApiKey',
    'googleAdsDeveloperToken',
  ] as const) {
    names.set(logicalId(stack, storage[name]), `secret:${name}`);
  }
  names.set(logicalId(stack, stack.keys.key), 'key:data');
  names.set(logicalId(stack, storage.backupBucket), 'bucket:backup');
  for (const [id, deployed] of stack.functions.functions.entries()) {
    names.set(logicalId(stack, deployed.logGroup), `logs:${id}`);
  }
  return names;
}

function resourceName(resource: Json, names: Map<string, string>): string {
  if (typeof resource === 'string') return resource;
  const ids = [...referencedIds(resource)];
  const base = ids.length === 1 ? names.get(ids[0] as string) : undefined;
  if (!base) return `unresolved:${JSON.stringify(resource)}`;
  const join = (resource as { 'Fn::Join'?: [string, Json[]] })['Fn::Join'];
  const suffix = join ? join[1].filter((part): part is string => typeof part === 'string').join('') : '';
  return `${base}${suffix}`;
}

/** Every Allow of the function's role in the template, one per action and resource. */
export function permissionsOf(
  stack: AdsEngineerStack,
  template: { toJSON(): Record<string, unknown> },
  id: FunctionId,
): Permission[] {
  const names = namesOf(stack);
  const statements = rolePolicyStatements({ stack, template: template as never }, id);
  return statements
    .filter((s) => s.Effect === 'Allow')
    .flatMap((s) =>
      asArray(s.Action).flatMap((action) =>
        asArray(s.Resource as Json | Json[]).map((resource) => ({
          sid: String((s as { Sid?: string }).Sid ?? ''),
          action,
          resource: resourceName(resource, names),
          condition: ((s as { Condition?: Permission['condition'] }).Condition ??
            {}) as Permission['condition'],
        })),
      ),
    );
}

const glob = (pattern: string, value: string) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  ).test(value);

/**
 * Whether the conditions hold for a call the function makes itself. Only the keys the stack uses
 * are understood; any other fails closed (the call is taken as refused).
 */
function conditionsHold(condition: Permission['condition'], call: RecordedCall): boolean {
  for (const [operator, entries] of Object.entries(condition)) {
    for (const [key, expected] of Object.entries(entries)) {
      const values = asArray(expected as Json | Json[]).map(String);
      if (key === 'kms:ViaService') {
        // A recorded call is the function's own: no service in between.
        if (operator === 'Null' && values.includes('true')) continue;
        return false;
      }
      const contextKey = /^kms:EncryptionContext:(.+)$/.exec(key)?.[1];
      if (contextKey && operator === 'StringEquals') {
        const actual = call.context?.[contextKey];
        if (actual === undefined || !values.includes(actual)) return false;
        continue;
      }
      return false;
    }
  }
  return true;
}

export function allows(permission: Permission, call: RecordedCall): boolean {
  return (
    glob(permission.action, iamAction(call.action)) &&
    glob(permission.resource, call.resource) &&
    conditionsHold(permission.condition, call)
  );
}

/** What Lambda's event source mapping does with the consumer's role (the local poller stands in for it). */
const EVENT_SOURCE_ACTIONS = new Set([
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:ChangeMessageVisibility',
  'sqs:GetQueueAttributes',
]);

/**
 * Permissions no recorded call can show in use here: the Lambda runtime's (logs), the services'
 * own use of the key (`kms:ViaService`), and the event source mapping's calls on the queue the
 * function consumes.
 */
export function notObservable(id: FunctionId, permission: Permission): boolean {
  if (permission.resource.startsWith('logs:')) return true;
  if ('kms:ViaService' in (permission.condition.StringEquals ?? {})) return true;
  const consumed = QUEUES.filter((q) => q.consumer?.functionId === id).map((q) => `queue:${q.id}`);
  return consumed.includes(permission.resource) && EVENT_SOURCE_ACTIONS.has(permission.action);
}

export interface Replay {
  /** Calls no permission of the function's role allows: `function action resource`. */
  refused: string[];
  /** Permissions no recorded call of the function used: `function action resource [sid]`. */
  unused: string[];
}

export function replay(
  calls: readonly RecordedCall[],
  permissions: (id: FunctionId) => Permission[],
  ids: readonly FunctionId[],
): Replay {
  const refused: string[] = [];
  const unused: string[] = [];
  for (const id of ids) {
    const own = permissions(id);
    const mine = calls.filter((c) => c.function === id);
    for (const call of mine) {
      if (!own.some((p) => allows(p, call))) {
        const context = call.context ? ` ${JSON.stringify(call.context)}` : '';
        refused.push(`${id} ${iamAction(call.action)} ${call.resource}${context}`);
      }
    }
    for (const permission of own) {
      if (notObservable(id, permission)) continue;
      if (!mine.some((call) => allows(permission, call))) {
        unused.push(`${id} ${permission.action} ${permission.resource} [${permission.sid}]`);
      }
    }
  }
  return { refused: refused.sort(), unused: unused.sort() };
}
