import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { LocalStack } from '../../local/stack';
import { fbclid, gclid } from '../support/click-ids';
import { scanAll } from '../support/dynamo';
import { emulatorUrl } from '../support/emulator';
import { subjectId } from '../support/gdpr';
import { request } from '../support/http';
import { capturedOutput, outputMark } from '../support/leak-capture';
import { startTestStack } from '../support/local-stack';
import { createTenants, type TestTenant } from '../support/tenants';

let stack: LocalStack;
let a: TestTenant;
let b: TestTenant;
let dynamo: DynamoDBDocumentClient;
const call = (method: string, path: string, options?: Parameters<typeof request>[3]) =>
  request(stack.url, method, path, options);
const granted = { status: 'granted', method: 'form_checkbox', timestamp: '2026-11-20T10:00:00Z' };

/** Everything stored anywhere, as text: to prove what is (not) held. */
async function everythingStored(): Promise<string> {
  const dumps: unknown[] = [];
  for (const table of [stack.env.LEADS_TABLE, stack.env.CONVERSIONS_TABLE, stack.env.AUDIT_TABLE]) {
    dumps.push(await scanAll(dynamo, { TableName: table }));
  }
  return JSON.stringify(dumps);
}

async function capture(tenant: TestTenant, email: string, extra: Record<string, unknown> = {}) {
  const res = await call('POST', '/api/v1/leads', {
    token: tenant.member,
    body: { email, consent: granted, ...extra },
  });
  expect(res.status).toBe(201);
  return (res.body.lead_ids as string[])[0] as string;
}

beforeAll(async () => {
  process.env.RATE_LIMIT_TENANT_PER_HOUR = '100000';
  stack = await startTestStack('gdpr');
  dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: emulatorUrl(), region: 'us-east-1' }));
  [a, b] = await createTenants(stack.url, 'Agency A', 'Agency B');
});

afterAll(async () => {
  dynamo.destroy();
  await stack.stop();
});

describe('data-subject rights over HTTP', () => {
  it('exports everything held, then erases it all but the hashed tombstone', async () => {
    const email = 'Subject.One@Example.com';
    const mark = outputMark();
    const first = await capture(a, email, { gclid: gclid(21), phone: '+4915123456789', value: 10 });
    await capture(a, email, { fbclid: fbclid(21), external_id: 'crm-7' });
    await call('PATCH', `/api/v1/leads/${first}`, {
      token: a.member,
      body: { status: 'won', order_id: 'o-1' },
    });

    const id = await subjectId(stack.url, a.member, email);
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(await subjectId(stack.url, a.admin, ' subject.one@EXAMPLE.com')).toBe(id);
    const exported = await call('GET', `/api/v1/gdpr/subjects/${id}`, { token: a.admin });
    expect(exported.status).toBe(200);
    expect(exported.body.subject_id).toBe(id);
    expect(exported.body.leads).toEqual(
      expect.arrayContaining([expect.objectContaining({ email: 'subject.one@example.com' })]),
    );
    expect(exported.body.leads).toHaveLength(2);
    expect(exported.body.conversions).toEqual([
      expect.objectContaining({ lead_id: first, platform: 'google_ads', status: 'queued', order_id: 'o-1' }),
    ]);
    expect((exported.body.consent_history as unknown[]).length).toBe(2);
    const actions = (exported.body.audit as Array<{ action: string }>).map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['consent_recorded', 'export']));

    const erased = await call('DELETE', `/api/v1/gdpr/subjects/${id}`, { token: a.admin });
    expect(erased.body).toMatchObject({ erased: true, leads: 2, conversions: 1, subject_id: id });
    const after = await call('GET', `/api/v1/gdpr/subjects/${id}`, { token: a.admin });
    expect(after.body.leads).toEqual([]);
    expect(after.body.conversions).toEqual([]);
    const tombstone = (after.body.audit as Array<{ action: string; email_hash: string }>).find(
      (r) => r.action === 'erasure',
    );
    expect(tombstone?.email_hash).toBe(id);
    const stored = await everythingStored();
    for (const personal of [
      'subject.one@example.com',
      '+4915123456789',
      gclid(21),
      fbclid(21),
      'crm-7',
      'o-1',
    ]) {
      expect(stored).not.toContain(personal);
    }
    expect((await call('GET', `/api/v1/leads/${first}`, { token: a.viewer })).status).toBe(404);
    // Every log line and metric written during the test: the functions logged (at DEBUG), never the person.
    const written = capturedOutput(mark);
    expect(written).toContain('"level":');
    for (const personal of [
      'subject.one@example.com',
      'Subject.One@Example.com',
      '+4915123456789',
      gclid(21),
      fbclid(21),
    ]) {
      expect(written).not.toContain(personal);
    }
  });

  it('answers a subject id alike for known and unknown people, and refuses what is not an email', async () => {
    const known = await call('POST', '/api/v1/gdpr/subjects', {
      token: a.member,
      body: { email: 'known.person@example.com' },
    });
    await capture(a, 'known.person@example.com');
    const again = await call('POST', '/api/v1/gdpr/subjects', {
      token: a.member,
      body: { email: 'known.person@example.com' },
    });
    const unknown = await call('POST', '/api/v1/gdpr/subjects', {
      token: a.member,
      body: { email: 'nobody.here@example.com' },
    });
    expect([known.status, again.status, unknown.status]).toEqual([200, 200, 200]);
    expect(again.body).toEqual(known.body);
    expect(Object.keys(unknown.body)).toEqual(['subject_id']);
    const inB = await call('POST', '/api/v1/gdpr/subjects', {
      token: b.member,
      body: { email: 'known.person@example.com' },
    });
    expect(inB.body.subject_id).not.toBe(known.body.subject_id);
    const invalid = await call('POST', '/api/v1/gdpr/subjects', { token: a.member, body: { email: 'nope' } });
    expect(invalid.status).toBe(400);
    expect(JSON.stringify(invalid.body)).not.toContain('nope');
    const extra = await call('POST', '/api/v1/gdpr/subjects', {
      token: a.member,
      body: { email: 'known.person@example.com', tenant_id: b.id },
    });
    expect(extra.status).toBe(400);
    expect(
      (await call('POST', '/api/v1/gdpr/subjects', { token: a.viewer, body: { email: 'x@y.zz' } })).status,
    ).toBe(403);
  });

  it('keeps tenants apart: B cannot export, erase, change or see the audit of A', async () => {
    const email = 'shared.person@example.com';
    const leadA = await capture(a, email, { gclid: gclid(22) });
    const idA = await subjectId(stack.url, a.member, email);
    const idB = await subjectId(stack.url, b.member, email);
    for (const id of [idA, idB]) {
      const exportB = await call('GET', `/api/v1/gdpr/subjects/${id}`, { token: b.admin });
      expect(exportB.body.leads).toEqual([]);
      expect(JSON.stringify(exportB.body)).not.toContain(leadA);
      expect((await call('DELETE', `/api/v1/gdpr/subjects/${id}`, { token: b.admin })).body).toMatchObject({
        leads: 0,
      });
      await call('PATCH', `/api/v1/gdpr/subjects/${id}`, { token: b.admin, body: { restricted: true } });
      await call('POST', `/api/v1/gdpr/subjects/${id}/consent`, {
        token: b.member,
        body: { status: 'withdrawn' },
      });
    }
    const stillA = await call('GET', `/api/v1/leads/${leadA}`, { token: a.viewer });
    expect(stillA.body).toMatchObject({ restricted: false, consent: { status: 'granted' } });
    const auditB = await call('GET', `/api/v1/gdpr/audit?subject_id=${idA}`, { token: b.admin });
    const auditA = await call('GET', `/api/v1/gdpr/audit?subject_id=${idA}`, { token: a.admin });
    const idsB = (auditB.body.items as Array<{ id: string; request_id: string }>).map((r) => r.id);
    for (const record of auditA.body.items as Array<{ id: string }>) expect(idsB).not.toContain(record.id);
    expect((await call('GET', '/api/v1/gdpr/audit', { token: b.member })).status).toBe(403);
  });

  it('withdrawal stops uploads at once: queued conversions are cancelled and won queues nothing', async () => {
    const email = 'withdrawer@example.com';
    const lead = await capture(a, email, { gclid: gclid(23) });
    await call('PATCH', `/api/v1/leads/${lead}`, { token: a.member, body: { status: 'qualified' } });
    const other = await capture(a, email, { gclid: gclid(24) });
    await call('PATCH', `/api/v1/leads/${other}`, { token: a.member, body: { status: 'won' } });
    const id = await subjectId(stack.url, a.member, email);
    const withdrawn = await call('POST', `/api/v1/gdpr/subjects/${id}/consent`, {
      token: a.member,
      body: { status: 'withdrawn', method: 'api_call', timestamp: new Date().toISOString() },
    });
    expect(withdrawn.body).toMatchObject({
      leads: 2,
      cancelled_uploads: 1,
      consent: { status: 'withdrawn' },
    });
    const won = await call('PATCH', `/api/v1/leads/${lead}`, { token: a.member, body: { status: 'won' } });
    expect(won.body.conversions_queued).toEqual([]);
    const exported = await call('GET', `/api/v1/gdpr/subjects/${id}`, { token: a.admin });
    expect(exported.body.conversions).toEqual([
      expect.objectContaining({ status: 'cancelled', cancel_reason: 'consent_withdrawn' }),
    ]);
    const history = (exported.body.leads as Array<{ consent_history: Array<{ status: string }> }>)[0]
      ?.consent_history;
    expect(history?.map((c) => c.status)).toEqual(['granted', 'withdrawn']);
  });

  it('restriction cancels queued uploads and rectification corrects fields, both audited', async () => {
    const email = 'restrict.me@example.com';
    const lead = await capture(a, email, { gclid: gclid(25) });
    const id = await subjectId(stack.url, a.member, email);
    await call('PATCH', `/api/v1/leads/${lead}`, { token: a.member, body: { status: 'won' } });
    const res = await call('PATCH', `/api/v1/gdpr/subjects/${id}`, {
      token: a.admin,
      body: { restricted: true, phone: '030 1234567', country: 'DE', utm_source: 'corrected' },
    });
    expect(res.body).toMatchObject({ leads: 1, restricted: true, cancelled_uploads: 1 });
    const read = await call('GET', `/api/v1/leads/${lead}`, { token: a.viewer });
    expect(read.body).toMatchObject({ restricted: true, phone: '+49301234567', utm_source: 'corrected' });
    const audit = await call('GET', `/api/v1/gdpr/audit?subject_id=${id}`, { token: a.admin });
    const actions = (audit.body.items as Array<{ action: string; actor: string; ip: string }>).map(
      (r) => r.action,
    );
    expect(actions).toEqual(expect.arrayContaining(['rectification', 'restriction']));
    const record = (audit.body.items as Array<{ actor: string; ip: string; request_id: string }>)[0];
    expect(record).toMatchObject({ actor: `user:${a.id}:admin`, ip: '127.0.0.0' });
    expect(record?.request_id).toMatch(/[0-9a-f-]{36}/);
    expect((await call('PATCH', `/api/v1/gdpr/subjects/${id}`, { token: a.admin, body: {} })).status).toBe(
      400,
    );
    expect(
      (await call('PATCH', `/api/v1/gdpr/subjects/${id}`, { token: a.admin, body: { phone: 'nope' } }))
        .status,
    ).toBe(400);
    for (const malformed of ['not-a-subject', email, id.toUpperCase(), `${id}0`]) {
      const res = await call('GET', `/api/v1/gdpr/subjects/${encodeURIComponent(malformed)}`, {
        token: a.admin,
      });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body)).not.toContain(malformed);
    }
  });

  it('rectifies without touching a restriction or queued uploads; lifting a restriction cancels nothing', async () => {
    const email = 'rectify.only@example.com';
    const lead = await capture(a, email, { gclid: gclid(26) });
    await call('PATCH', `/api/v1/leads/${lead}`, { token: a.member, body: { status: 'won' } });
    const id = await subjectId(stack.url, a.member, email);
    const rectified = await call('PATCH', `/api/v1/gdpr/subjects/${id}`, {
      token: a.admin,
      body: { utm_campaign: 'corrected' },
    });
    expect(rectified.body).toEqual({
      leads: 1,
      restricted: null,
      rectified: ['utm_campaign'],
      cancelled_uploads: 0,
    });
    let exported = await call('GET', `/api/v1/gdpr/subjects/${id}`, { token: a.admin });
    expect(exported.body.leads).toEqual([
      expect.objectContaining({ restricted: false, utm_campaign: 'corrected' }),
    ]);
    expect(exported.body.conversions).toEqual([expect.objectContaining({ status: 'queued' })]);
    const actionsOf = async () =>
      (
        (await call('GET', `/api/v1/gdpr/audit?subject_id=${id}`, { token: a.admin })).body.items as Array<{
          action: string;
          details: Record<string, unknown>;
        }>
      ).filter((r) => r.action === 'rectification' || r.action === 'restriction');
    expect(await actionsOf()).toEqual([expect.objectContaining({ action: 'rectification' })]);

    await call('PATCH', `/api/v1/gdpr/subjects/${id}`, { token: a.admin, body: { restricted: true } });
    const lifted = await call('PATCH', `/api/v1/gdpr/subjects/${id}`, {
      token: a.admin,
      body: { restricted: false },
    });
    expect(lifted.body).toEqual({ leads: 1, restricted: false, rectified: [], cancelled_uploads: 0 });
    exported = await call('GET', `/api/v1/gdpr/subjects/${id}`, { token: a.admin });
    expect(exported.body.leads).toEqual([expect.objectContaining({ restricted: false })]);
    expect(exported.body.conversions).toEqual([
      expect.objectContaining({ status: 'cancelled', cancel_reason: 'restricted' }),
    ]);
    const restrictions = (await actionsOf()).filter((r) => r.action === 'restriction');
    expect(restrictions.map((r) => r.details)).toEqual(
      expect.arrayContaining([
        { restricted: true, leads: 1, cancelled: 1 },
        { restricted: false, leads: 1, cancelled: 0 },
      ]),
    );
  });

  it('a repeated withdrawal counts no upload twice, and consent granted again cancels nothing', async () => {
    const email = 'changes.mind@example.com';
    const lead = await capture(a, email, { gclid: gclid(27) });
    await call('PATCH', `/api/v1/leads/${lead}`, { token: a.member, body: { status: 'won' } });
    const id = await subjectId(stack.url, a.member, email);
    const consent = (body: Record<string, unknown>) =>
      call('POST', `/api/v1/gdpr/subjects/${id}/consent`, { token: a.member, body });
    expect((await consent({ status: 'withdrawn' })).body).toMatchObject({ leads: 1, cancelled_uploads: 1 });
    expect((await consent({ status: 'withdrawn' })).body).toMatchObject({ leads: 1, cancelled_uploads: 0 });
    // A new visit of the same person, with consent, queues an upload that granting consent keeps.
    const later = await capture(a, email, { gclid: gclid(28) });
    await call('PATCH', `/api/v1/leads/${later}`, { token: a.member, body: { status: 'won' } });
    const regranted = await consent(granted);
    expect(regranted.body).toMatchObject({ leads: 2, cancelled_uploads: 0, consent: { status: 'granted' } });
    const exported = await call('GET', `/api/v1/gdpr/subjects/${id}`, { token: a.admin });
    expect(exported.body.conversions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ lead_id: lead, status: 'cancelled', cancel_reason: 'consent_withdrawn' }),
        expect.objectContaining({ lead_id: later, status: 'queued' }),
      ]),
    );
    expect(exported.body.conversions).toHaveLength(2);
    const history = (
      exported.body.leads as Array<{ id: string; consent_history: Array<{ status: string }> }>
    ).find((l) => l.id === lead)?.consent_history;
    expect(history?.map((c) => c.status)).toEqual(['granted', 'withdrawn', 'withdrawn', 'granted']);
  });

  it('erasing a lead without a click id frees its email for a capture under consent given after it', async () => {
    const email = 'no.click@example.com';
    const lead = await capture(a, email);
    const id = await subjectId(stack.url, a.member, email);
    const erased = await call('DELETE', `/api/v1/gdpr/subjects/${id}`, { token: a.admin });
    expect(erased.body).toMatchObject({ erased: true, leads: 1, conversions: 0 });
    // The dedup key of the email without a click id went with the lead: no lead item names it.
    const leadItems = await scanAll(dynamo, { TableName: stack.env.LEADS_TABLE });
    expect(JSON.stringify(leadItems)).not.toContain(lead);
    // The consent given before the erasure does not outlive it.
    const stale = await call('POST', '/api/v1/leads', { token: a.member, body: { email, consent: granted } });
    expect(stale.status).toBe(200);
    expect(stale.body).toMatchObject({ stored: 0, denied_leads: [{ index: 0, reason: 'erased' }] });
    const again = await capture(a, email, { consent: { ...granted, timestamp: new Date().toISOString() } });
    expect(again).not.toBe(lead);
    expect((await call('GET', `/api/v1/leads/${again}`, { token: a.viewer })).status).toBe(200);
  });

  it('pages through the tenant audit trail newest first', async () => {
    const page = await call('GET', '/api/v1/gdpr/audit?limit=3', { token: a.admin });
    expect(page.body.items).toHaveLength(3);
    const times = (page.body.items as Array<{ at: string }>).map((r) => r.at);
    expect([...times].sort().reverse()).toEqual(times);
    const next = await call('GET', `/api/v1/gdpr/audit?limit=3&cursor=${page.body.next_cursor}`, {
      token: a.admin,
    });
    expect(next.body.items).toHaveLength(3);
  });
});
