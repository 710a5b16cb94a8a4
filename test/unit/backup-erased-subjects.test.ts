import { ErasedSubjectsFilter } from '../../functions/shared/features/backup/rules/erased-subjects';
import { BackupFormatError, type DynamoItem } from '../../functions/shared/features/backup/rules/format';

const H = 'a'.repeat(64);
const OTHER = 'b'.repeat(64);
const ERASED_AT = '2026-12-01T00:00:00.000Z';
const s = (value: string) => ({ S: value });
const lead = (tenant: string, id: string, hash: string, createdAt: string): DynamoItem => ({
  pk: s(`TENANT#${tenant}`),
  sk: s(`LEAD#${id}`),
  email_hash: s(hash),
  created_at: s(createdAt),
});
const dedup = (tenant: string, sk: string, leadId: string): DynamoItem => ({
  pk: s(`TENANT#${tenant}`),
  sk: s(sk),
  lead_id: s(leadId),
});

describe('a restore leaves out erased subjects', () => {
  const filter = () => new ErasedSubjectsFilter([{ tenantId: 't1', hash: H, erasedAt: ERASED_AT }]);

  it('drops a lead created before its erasure and its dedup keys; keeps newer and other leads', () => {
    const f = filter();
    const kept: DynamoItem[] = [];
    kept.push(...f.admit('leads', dedup('t1', `EC#${H}#-`, 'lead_old')));
    kept.push(...f.admit('leads', dedup('t1', 'EXT#shopify:1', 'lead_old')));
    kept.push(...f.admit('leads', dedup('t1', `EC#${H}#x`, 'lead_new')));
    kept.push(...f.admit('leads', lead('t1', 'lead_old', H, '2026-11-30T00:00:00.000Z')));
    kept.push(...f.admit('leads', lead('t1', 'lead_new', H, '2026-12-02T00:00:00.000Z')));
    kept.push(...f.admit('leads', lead('t1', 'lead_other', OTHER, '2026-11-30T00:00:00.000Z')));
    // Another tenant's lead with the same hash is another person.
    kept.push(...f.admit('leads', lead('t2', 'lead_t2', H, '2026-11-30T00:00:00.000Z')));
    kept.push(...f.endTable('leads'));
    const sks = kept.map((item) => item.sk?.S);
    expect(sks).toEqual(['LEAD#lead_new', 'LEAD#lead_other', 'LEAD#lead_t2', `EC#${H}#x`]);
    expect(f.dropped).toEqual({ leads: 3 });
  });

  it("drops the dropped lead's conversions, their adjustments and an order naming only them", () => {
    const f = filter();
    f.admit('leads', lead('t1', 'lead_old', H, '2026-11-30T00:00:00.000Z'));
    f.endTable('leads');
    const tenant = s('TENANT#t1');
    const kept = [
      ...f.admit('conversions', { pk: tenant, sk: s('ADJ#conv_old#1') }),
      ...f.admit('conversions', { pk: tenant, sk: s('ADJ#conv_kept#1') }),
      ...f.admit('conversions', { pk: tenant, sk: s('CONV#conv_old'), lead_id: s('lead_old') }),
      ...f.admit('conversions', { pk: tenant, sk: s('CONV#conv_kept'), lead_id: s('lead_other') }),
      ...f.admit('conversions', {
        pk: tenant,
        sk: s('ORDER#shopify:1'),
        conversion_ids: { SS: ['conv_old'] },
      }),
      ...f.admit('conversions', {
        pk: tenant,
        sk: s('ORDER#shopify:2'),
        conversion_ids: { SS: ['conv_old', 'conv_kept'] },
      }),
      ...f.admit('conversions', { pk: s('TENANT#t1'), sk: s('BATCH#1') }),
      ...f.endTable('conversions'),
    ].map((item) => item.sk?.S);
    expect(kept).toEqual(['CONV#conv_kept', 'ORDER#shopify:2', 'BATCH#1', 'ADJ#conv_kept#1']);
    expect(f.dropped).toEqual({ leads: 1, conversions: 3 });
  });

  it("never lets the backup's older tombstone replace the target's; other audit records pass", () => {
    const f = filter();
    const older = {
      pk: s(`TENANT#t1#TOMBSTONE#${H}`),
      sk: s('TOMBSTONE'),
      erased_at: s('2026-01-01T00:00:00.000Z'),
    };
    const newer = { ...older, erased_at: s('2026-12-05T00:00:00.000Z') };
    const record = { pk: s(`TENANT#t1#SUBJECT#${H}`), sk: s('2026-01-01#aud_1') };
    expect(f.admit('audit', older)).toEqual([]);
    expect(f.admit('audit', newer)).toEqual([newer]);
    expect(f.admit('audit', record)).toEqual([record]);
  });

  it('passes everything when the target holds no tombstone, and other tables always', () => {
    const none = new ErasedSubjectsFilter([]);
    const item = lead('t1', 'lead_old', H, '2026-11-30T00:00:00.000Z');
    expect(none.active).toBe(false);
    expect(none.admit('leads', item)).toEqual([item]);
    expect(filter().admit('tenants', { pk: s('TENANT#t1'), sk: s('META') })).toHaveLength(1);
  });

  it('keeps the latest of two tombstones of one identity', () => {
    const f = new ErasedSubjectsFilter([
      { tenantId: 't1', hash: H, erasedAt: '2026-12-10T00:00:00.000Z' },
      { tenantId: 't1', hash: H, erasedAt: ERASED_AT },
    ]);
    expect(f.admit('leads', lead('t1', 'l', H, '2026-12-05T00:00:00.000Z'))).toEqual([]);
  });

  it('refuses a backup listing conversions before leads, when it has something to drop', () => {
    expect(() => filter().checkOrder(['conversions', 'leads'])).toThrow(BackupFormatError);
    expect(() => filter().checkOrder(['leads', 'conversions'])).not.toThrow();
    expect(() => new ErasedSubjectsFilter([]).checkOrder(['conversions', 'leads'])).not.toThrow();
  });
});
