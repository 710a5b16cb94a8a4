/**
 * `npm run ops -- migrate lead-conversions` against the emulator: conversions of orders from
 * before conversion ids derived from the order alone are recorded on their lead, once, so the
 * lead finds them (erasure, export) without an index of conversions by lead.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoConversionStore } from '../../functions/shared/features/conversions/dynamo';
import type { Conversion } from '../../functions/shared/features/conversions/model';
import {
  earlierOrderConversionIds,
  leadEventConversionId,
} from '../../functions/shared/features/conversions/rules/plan';
import { DynamoLeadStore } from '../../functions/shared/features/leads/dynamo';
import type { StoredLead } from '../../functions/shared/features/leads/model';
import type { TenantScope } from '../../functions/shared/features/tenancy/rules/scope';
import { documentClient } from '../../functions/shared/platform/aws/clients';
import { tableName } from '../../functions/shared/platform/config/resources';
import { run } from '../../ops/cli';
import { migrateLeadConversions } from '../../ops/migrate';
import { freshResources } from '../support/emulator';
import { conversion, lead } from '../support/fixtures';

const a = { tenantId: 'ten_migrate_a' } as TenantScope;

/** A won lead as the release before wrote it. */
const leadBefore = (): StoredLead => lead({ email: 'before@example.com', email_hash: 'f'.repeat(64) });

/** An order conversion of a lead, uploaded by the release before. */
const uploadedBefore = (id: string, leadId: string): Conversion =>
  conversion({
    id,
    lead_id: leadId,
    status: 'uploaded',
    attempts: 1,
    order_id: '1001',
    click_id_type: 'gclid',
    click_id: 'gclid-before',
  });

describe('migrate lead-conversions', () => {
  const leads = new DynamoLeadStore();
  const conversions = new DynamoConversionStore();

  beforeAll(async () => {
    await freshResources();
  });

  it("records each earlier order conversion on its lead once, which then finds it; the lead's version moves on", async () => {
    const held = leadBefore();
    await leads.create(a, held, [`EC#${held.email_hash}#-`]);
    const [earlier] = earlierOrderConversionIds(held.id, 'shopify:1001');
    const own = leadEventConversionId(held.id);
    await conversions.queue(a, uploadedBefore(earlier as string, held.id));
    await conversions.queue(a, uploadedBefore(own, held.id));
    // A conversion whose lead was erased: nothing to record it on.
    await conversions.queue(a, uploadedBefore('cnv_orphanedbeforeerasure00g', 'lead_gone'));
    // Before: the lead finds only the conversion whose id derives from it.
    expect((await conversions.ofLead(a, held)).map((c) => c.id)).toEqual([own]);

    const lines: string[] = [];
    const first = await migrateLeadConversions({ progress: (line) => lines.push(line), pageSize: 1 });
    expect(first).toEqual({ scanned: 3, recorded: 1, derivable: 1, leadGone: 1 });
    // Progress for every page, the last without the ellipsis.
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines.at(-1)).toMatch(/3 conversion\(s\) of leads read: 1 recorded/);
    expect(lines.at(-1)).not.toMatch(/\.\.\.$/);

    const after = (await leads.get(a, held.id)) as StoredLead;
    expect(after.conversion_ids).toEqual([earlier]);
    expect(after.version).toBe(2);
    expect((await conversions.ofLead(a, after)).map((c) => c.id).sort()).toEqual([earlier, own].sort());

    // Resumable and idempotent: a second run records nothing more.
    expect(await migrateLeadConversions()).toEqual({ scanned: 3, recorded: 0, derivable: 2, leadGone: 1 });
    expect(((await leads.get(a, held.id)) as StoredLead).conversion_ids).toEqual([earlier]);
  });

  it('is an operator command that prints what it did', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await run(['migrate', 'lead-conversions'], {
      out: (line) => out.push(line),
      err: (line) => err.push(line),
    });
    expect(code).toBe(0);
    expect(err[0]).toBe('Recording the conversions of leads on their leads ...');
    expect(out.join('\n')).toMatch(/^Read \d+ conversion\(s\) of leads: 0 recorded on their lead/);
  });

  it('leaves a lead no conversion names alone', async () => {
    const other = leadBefore();
    await leads.create(a, other, [`EC#${'e'.repeat(64)}#-`]);
    await migrateLeadConversions();
    const raw = await documentClient().send(
      new GetCommand({
        TableName: tableName('leads'),
        Key: { pk: `TENANT#${a.tenantId}`, sk: `LEAD#${other.id}` },
      }),
    );
    expect(raw.Item).not.toHaveProperty('conversion_ids');
    expect(raw.Item?.version).toBe(1);
    // A conversion item without a lead is not read as one of a lead.
    await documentClient().send(
      new PutCommand({
        TableName: tableName('conversions'),
        Item: { pk: `TENANT#${a.tenantId}`, sk: 'BATCH#b1', id: 'b1' },
      }),
    );
    expect((await migrateLeadConversions()).scanned).toBe(3);
  });
});
