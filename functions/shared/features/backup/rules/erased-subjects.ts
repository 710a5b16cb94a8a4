import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { TableId } from '../../../../../contract/resources';
import { TOMBSTONE_SK } from '../../gdpr/dynamo-tombstones';
import { erasureCovers } from '../../gdpr/rules/erasure';
import { BackupFormatError, type DynamoItem } from './format';

/**
 * A restore's erasure gate: a backup taken before an erasure still holds the erased person, and
 * restoring it must not bring them back. Given the tombstones the target tables hold (tenant,
 * identity hash, erasure time), it decides item by item, as the backup streams past:
 *
 * - leads: a lead whose e-mail hash was tombstoned at or after its creation is dropped, and so
 *   are its dedup keys (held back until the leads table ends, since they sort before the lead);
 * - conversions: those of a dropped lead, their adjustments (held back the same way) and an
 *   order's index when every conversion it names was dropped;
 * - audit: a tombstone of the backup never replaces a newer one of the target.
 *
 * Everything else passes unchanged. Tenants without tombstones cost nothing: nothing of theirs is
 * held back.
 */
export class ErasedSubjectsFilter {
  /** `<tenant id>\n<hash>` → erasure time. */
  private readonly tombstones = new Map<string, string>();
  private readonly erasedTenants = new Set<string>();
  private readonly droppedLeads = new Set<string>();
  private readonly droppedConversions = new Set<string>();
  private held: { item: DynamoItem; ref: string }[] = [];
  readonly dropped: Partial<Record<TableId, number>> = {};

  constructor(tombstones: Iterable<{ tenantId: string; hash: string; erasedAt: string }>) {
    for (const { tenantId, hash, erasedAt } of tombstones) {
      const key = `${tenantId}\n${hash}`;
      const known = this.tombstones.get(key);
      if (known === undefined || known < erasedAt) this.tombstones.set(key, erasedAt);
      this.erasedTenants.add(tenantId);
    }
  }

  get active(): boolean {
    return this.tombstones.size > 0;
  }

  /** Refuses a backup whose conversions come before its leads: their fate depends on the leads'. */
  checkOrder(tables: readonly TableId[]): void {
    if (
      this.active &&
      tables.includes('conversions') &&
      tables.indexOf('conversions') < tables.indexOf('leads')
    ) {
      throw new BackupFormatError(
        'backup lists conversions before leads; a restore cannot drop erased subjects',
      );
    }
  }

  /** The items to write now for `item` of `table` (none when it is dropped or held back). */
  admit(table: TableId, item: DynamoItem): DynamoItem[] {
    if (!this.active) return [item];
    const pk = text(item.pk);
    const sk = text(item.sk);
    const tenantId = pk?.startsWith('TENANT#') ? pk.slice('TENANT#'.length) : undefined;
    if (table === 'audit') return this.auditItem(item, pk, sk);
    if (tenantId === undefined || tenantId.includes('#') || !this.erasedTenants.has(tenantId) || !sk)
      return [item];
    if (table === 'leads') return this.leadItem(item, tenantId, sk);
    if (table === 'conversions') return this.conversionItem(item, tenantId, sk);
    return [item];
  }

  /** What was held back of `table`, now that all of it has been seen. */
  endTable(table: TableId): DynamoItem[] {
    const held = this.held;
    this.held = [];
    const gone = table === 'leads' ? this.droppedLeads : this.droppedConversions;
    const out: DynamoItem[] = [];
    for (const { item, ref } of held) {
      if (gone.has(ref)) this.drop(table);
      else out.push(item);
    }
    return out;
  }

  private drop(table: TableId): DynamoItem[] {
    this.dropped[table] = (this.dropped[table] ?? 0) + 1;
    return [];
  }

  private leadItem(item: DynamoItem, tenantId: string, sk: string): DynamoItem[] {
    if (sk.startsWith('LEAD#')) {
      const erasedAt = this.tombstones.get(`${tenantId}\n${text(item.email_hash) ?? ''}`);
      if (erasedAt !== undefined && erasureCovers(erasedAt, text(item.created_at) ?? '')) {
        this.droppedLeads.add(`${tenantId}\n${sk.slice('LEAD#'.length)}`);
        return this.drop('leads');
      }
      return [item];
    }
    const leadId = text(item.lead_id);
    if ((sk.startsWith('EC#') || sk.startsWith('EXT#')) && leadId !== undefined) {
      this.held.push({ item, ref: `${tenantId}\n${leadId}` });
      return [];
    }
    return [item];
  }

  private conversionItem(item: DynamoItem, tenantId: string, sk: string): DynamoItem[] {
    if (sk.startsWith('CONV#')) {
      const leadId = text(item.lead_id);
      if (leadId !== undefined && this.droppedLeads.has(`${tenantId}\n${leadId}`)) {
        this.droppedConversions.add(`${tenantId}\n${sk.slice('CONV#'.length)}`);
        return this.drop('conversions');
      }
      return [item];
    }
    if (sk.startsWith('ADJ#')) {
      const conversionId = sk.split('#')[1] ?? '';
      this.held.push({ item, ref: `${tenantId}\n${conversionId}` });
      return [];
    }
    if (sk.startsWith('ORDER#')) {
      const ids = item.conversion_ids?.SS ?? [];
      if (ids.length > 0 && ids.every((id) => this.droppedConversions.has(`${tenantId}\n${id}`))) {
        return this.drop('conversions');
      }
    }
    return [item];
  }

  private auditItem(item: DynamoItem, pk: string | undefined, sk: string | undefined): DynamoItem[] {
    if (sk !== TOMBSTONE_SK || !pk) return [item];
    const match = /^TENANT#([^#]+)#TOMBSTONE#(.+)$/.exec(pk);
    const known = match ? this.tombstones.get(`${match[1]}\n${match[2]}`) : undefined;
    const erasedAt = text(item.erased_at);
    if (known !== undefined && (erasedAt === undefined || erasedAt <= known)) return this.drop('audit');
    return [item];
  }
}

function text(value: AttributeValue | undefined): string | undefined {
  return value?.S;
}
