import { DynamoConversionStore } from '../../functions/shared/features/conversions/dynamo';
import { DynamoAuditTrail } from '../../functions/shared/features/gdpr/dynamo-audit';
import { DynamoTombstones } from '../../functions/shared/features/gdpr/dynamo-tombstones';
import type { Actor } from '../../functions/shared/features/gdpr/model';
import {
  changeConsent,
  exportSubject,
  patchSubject,
  type SubjectDeps,
  subjectOf,
} from '../../functions/shared/features/gdpr/service';
import { DynamoLeadStore } from '../../functions/shared/features/leads/dynamo';
import type { StoredLead } from '../../functions/shared/features/leads/model';
import { hasherFor } from '../../functions/shared/features/leads/rules/email-hash';
import type { LeadInput } from '../../functions/shared/features/leads/schema';
import { captureLeads, normaliseLeads } from '../../functions/shared/features/leads/service';
import type { TenantScope } from '../../functions/shared/features/tenancy/rules/scope';
import { DomainValidationError } from '../../functions/shared/platform/errors/domain';
import { gclid } from '../support/click-ids';
import { freshResources } from '../support/emulator';

const hash = hasherFor('k'.repeat(32));
const tenantA = { tenantId: 'ten_gdpr_a' } as TenantScope;
const tenantB = { tenantId: 'ten_gdpr_b' } as TenantScope;
const actor: Actor = { subject: 'user:ten_gdpr_a:admin', ip: '127.0.0.1', request_id: 'req-1' };
const audit = new DynamoAuditTrail();
const leads = new DynamoLeadStore();
const deps: SubjectDeps = {
  leads,
  conversions: new DynamoConversionStore(),
  audit,
  hash,
  tombstones: new DynamoTombstones(),
};

async function refusal(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a refusal');
}

beforeAll(async () => {
  await freshResources();
});

describe('audit trail on DynamoDB', () => {
  it("pages one subject's records newest first; a cursor pages only the listing it came from", async () => {
    const subject = subjectOf(tenantA, 'paged.person@example.com', hash).hash;
    const other = subjectOf(tenantA, 'other.person@example.com', hash).hash;
    const appended: string[] = [];
    for (const index of [1, 2, 3]) {
      appended.push((await audit.append(tenantA, 'rectification', subject, actor, { index })).id);
    }
    await audit.append(tenantA, 'export', other, actor, { leads: 0 });

    const first = await audit.list(tenantA, subject, 2);
    expect(first.items).toHaveLength(2);
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = await audit.list(tenantA, subject, 2, first.next_cursor ?? undefined);
    const listed = [...first.items, ...second.items];
    const times = listed.map((r) => `${r.at}#${r.id}`);
    expect(times).toEqual([...times].sort().reverse());
    expect(listed.map((r) => r.id).sort()).toEqual([...appended].sort());
    expect(listed.every((r) => r.email_hash === subject && !('pk' in r))).toBe(true);

    const cursor = first.next_cursor ?? undefined;
    // Another subject's listing, another tenant's, the tenant-wide listing: none accepts it.
    for (const elsewhere of [
      audit.list(tenantA, other, 2, cursor),
      audit.list(tenantB, subject, 2, cursor),
      audit.list(tenantA, undefined, 2, cursor),
    ]) {
      expect(await refusal(elsewhere)).toBeInstanceOf(DomainValidationError);
    }
    const tenantPage = await audit.list(tenantA, undefined, 1);
    expect(
      await refusal(audit.list(tenantB, undefined, 1, tenantPage.next_cursor ?? undefined)),
    ).toBeInstanceOf(DomainValidationError);
  });

  it("exports the subject's whole audit trail, across pages of the store", async () => {
    const subject = subjectOf(tenantA, 'long.history@example.com', hash);
    for (let index = 0; index < 120; index++) {
      await audit.append(tenantA, 'consent_changed', subject.hash, actor, { index });
    }
    const exported = await exportSubject(deps, tenantA, subject, actor);
    expect(exported.audit).toHaveLength(121);
    expect(new Set(exported.audit.map((r) => r.id)).size).toBe(121);
    expect(exported.audit.filter((r) => r.action === 'export')).toHaveLength(1);
    const indexes = exported.audit.flatMap((r) => (r.action === 'consent_changed' ? [r.details.index] : []));
    expect([...indexes].sort((x, y) => Number(x) - Number(y))).toEqual([...Array(120).keys()]);
    const times = exported.audit.map((r) => `${r.at}#${r.id}`);
    expect(times).toEqual([...times].sort().reverse());
  });
});

/** A lead index still listing a lead that another request erased just after the lookup. */
class LaggingIndex extends DynamoLeadStore {
  erased: StoredLead[] = [];

  override async byEmailHash(scope: TenantScope, emailHash: string): Promise<StoredLead[]> {
    const found = await super.byEmailHash(scope, emailHash);
    const [first] = found;
    if (first) {
      await this.delete(scope, first, []);
      this.erased.push(first);
    }
    return found;
  }
}

describe('subject rights racing an erasure', () => {
  it('skips a lead erased under the request and never writes it back', async () => {
    const email = 'racing.person@example.com';
    const inputs = [1, 2].map(
      (seed) =>
        ({
          email,
          gclid: gclid(40 + seed),
          consent: { status: 'granted', method: 'form_checkbox', timestamp: '2026-11-20T10:00:00Z' },
        }) as LeadInput,
    );
    const captured = await captureLeads(
      { leads, audit, hash },
      tenantA,
      normaliseLeads(tenantA, inputs, hash, false),
      actor,
    );
    expect(captured.stored).toBe(2);
    const subject = subjectOf(tenantA, email, hash);
    const lagging = new LaggingIndex();
    const racing: SubjectDeps = { ...deps, leads: lagging };

    const patched = await patchSubject(racing, tenantA, subject, { restricted: true }, actor);
    expect(patched).toMatchObject({ leads: 1, restricted: true });
    const consent = await changeConsent(racing, tenantA, subject, { status: 'withdrawn' }, actor);
    expect(consent).toMatchObject({ leads: 0, consent: { status: 'withdrawn' } });

    expect(lagging.erased.map((lead) => lead.id).sort()).toEqual([...captured.lead_ids].sort());
    for (const id of captured.lead_ids) expect(await leads.get(tenantA, id)).toBeUndefined();
  });
});
