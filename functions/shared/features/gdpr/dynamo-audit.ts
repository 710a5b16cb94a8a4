import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { decodeCursor, encodeCursor, type Page } from '../../platform/dynamo/pagination';
import { DynamoRepository } from '../../platform/dynamo/repository';
import { newId } from '../../platform/ids';
import { AUDIT_RETENTION_DAYS, EXPIRY_ATTRIBUTE, expiryOf } from '../retention/rules';
import type { TenantScope } from '../tenancy/rules/scope';
import type { Actor, AuditAction, AuditRecord } from './model';
import type { AuditTrail } from './ports';

const subjectPk = (scope: TenantScope, hash: string) => `TENANT#${scope.tenantId}#SUBJECT#${hash}`;
const tenantPk = (scope: TenantScope) => `TENANT#${scope.tenantId}`;

type Item = Record<string, unknown>;

function fromItem(item: Item): AuditRecord {
  const { pk: _pk, sk: _sk, gsi1pk: _a, gsi1sk: _b, [EXPIRY_ATTRIBUTE]: _expiresAt, ...record } = item;
  return record as unknown as AuditRecord;
}

/**
 * The network of an address, the way the trail keeps it for years: an IPv4 address with its last
 * octet zeroed (/24), an IPv6 address cut to its first 48 bits. A caller may be the data subject
 * (a browser posting a form), whose full address would be personal data kept past the subject's
 * own retention.
 */
export function networkOf(ip: string): string {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}$/.exec(ip);
  if (v4) return `${v4[1]}.${v4[2]}.${v4[3]}.0`;
  if (ip.includes(':')) {
    const [head = ''] = ip.split('::');
    const groups = head.split(':').filter((g) => g !== '');
    return `${groups.slice(0, 3).join(':')}::`;
  }
  return 'unknown';
}

/** The append-only audit trail: records are put once and never updated or deleted. */
export class DynamoAuditTrail extends DynamoRepository implements AuditTrail {
  constructor(client?: DynamoDBDocumentClient, table?: string) {
    super('audit', client, table);
  }

  async append(
    scope: TenantScope,
    action: AuditAction,
    emailHash: string,
    actor: Actor,
    details: AuditRecord['details'],
  ): Promise<AuditRecord> {
    const at = new Date().toISOString();
    const record: AuditRecord = {
      id: newId('aud'),
      at,
      action,
      email_hash: emailHash,
      actor: actor.subject,
      ip: networkOf(actor.ip),
      request_id: actor.request_id,
      details,
    };
    await this.client.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          pk: subjectPk(scope, emailHash),
          sk: `${at}#${record.id}`,
          gsi1pk: tenantPk(scope),
          gsi1sk: `${at}#${record.id}`,
          ...record,
          [EXPIRY_ATTRIBUTE]: expiryOf(at, AUDIT_RETENTION_DAYS),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return record;
  }

  /** Newest first: the records of one subject, or of the whole tenant. */
  async list(
    scope: TenantScope,
    emailHash: string | undefined,
    limit: number,
    cursor?: string,
  ): Promise<Page<AuditRecord>> {
    const bySubject = emailHash !== undefined;
    const pk = bySubject ? subjectPk(scope, emailHash) : tenantPk(scope);
    const binding = { list: 'gdpr_audit', tenantId: scope.tenantId, filter: { subject: emailHash } };
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        ...(bySubject ? {} : { IndexName: 'gsi1' }),
        KeyConditionExpression: bySubject ? 'pk = :pk' : 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ExclusiveStartKey: await decodeCursor(cursor, binding, (k) =>
          bySubject ? k.pk === pk : k.gsi1pk === pk,
        ),
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return {
      items: (out.Items ?? []).map(fromItem),
      next_cursor: await encodeCursor(out.LastEvaluatedKey as Record<string, string> | undefined, binding),
    };
  }
}
