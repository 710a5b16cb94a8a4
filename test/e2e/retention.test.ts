/**
 * Retention over HTTP against the local stack, as a tenant's admin and an operator see it: the
 * route's roles and bounds, and data past its retention gone after the local run mode's sweep
 * (run as of a later date: the emulator's clock cannot be moved) while the audit entry stays.
 */

import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../functions/shared/platform/aws/clients';
import type { LocalStack } from '../../local/stack';
import { run } from '../../ops/cli';
import { subjectId } from '../support/gdpr';
import { request } from '../support/http';
import { eventually, startTestStack } from '../support/local-stack';
import { capture } from '../support/operator';
import { createTenant, type TestTenant } from '../support/tenants';

const DAY_MS = 86_400_000;
let stack: LocalStack;
let tenant: TestTenant;
const call = (method: string, path: string, options?: Parameters<typeof request>[3]) =>
  request(stack.url, method, path, options);

beforeAll(async () => {
  // The local run mode sweeps expired items on its own; often here, so a test can see it.
  stack = await startTestStack('ret', { sweepEveryMs: 250 });
  tenant = await createTenant(stack.url, 'Retention Co');
});

afterAll(async () => {
  await stack?.stop();
});

describe('GET and PUT /api/v1/settings/retention', () => {
  it('answers the defaults to a viewer, refuses a member, validates the bounds and stores what an admin sets', async () => {
    const initial = await call('GET', '/api/v1/settings/retention', { token: tenant.viewer });
    expect(initial.status).toBe(200);
    expect(initial.body).toEqual({ leads_days: 400, conversions_days: 400, audit_days: 2190 });

    const member = await call('PUT', '/api/v1/settings/retention', {
      token: tenant.member,
      body: { leads_days: 90, conversions_days: 90 },
    });
    expect(member.status).toBe(403);

    for (const body of [
      { leads_days: 89, conversions_days: 400 },
      { leads_days: 400, conversions_days: 1096 },
      { leads_days: 400 },
      { leads_days: '400', conversions_days: 400 },
    ]) {
      const refused = await call('PUT', '/api/v1/settings/retention', { token: tenant.admin, body });
      expect(refused.status).toBe(400);
      expect(refused.body.error).toBe('validation_failed');
      expect(Array.isArray(refused.body.details)).toBe(true);
    }

    const set = await call('PUT', '/api/v1/settings/retention', {
      token: tenant.admin,
      body: { leads_days: 90, conversions_days: 1095 },
    });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({
      leads_days: 90,
      conversions_days: 1095,
      audit_days: 2190,
      updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect((await call('GET', '/api/v1/settings/retention', { token: tenant.viewer })).body).toEqual(
      set.body,
    );
  });
});

describe('data past its retention', () => {
  it('is gone after the sweep, while its audit entry stays', async () => {
    const email = 'expiring.person@example.com';
    const captured = await call('POST', '/api/v1/leads', {
      token: tenant.member,
      body: { email, external_id: 'ret-1', consent: { status: 'granted', method: 'form_checkbox' } },
    });
    expect(captured.status).toBe(201);
    const leadId = (captured.body.lead_ids as string[])[0];
    expect((await call('GET', `/api/v1/leads/${leadId}`, { token: tenant.viewer })).status).toBe(200);

    // Nothing has expired yet: a sweep now keeps the lead.
    const now = capture();
    expect(await run(['retention', 'sweep'], now)).toBe(0);
    expect((await call('GET', `/api/v1/leads/${leadId}`, { token: tenant.viewer })).status).toBe(200);

    // 91 days on, past the tenant's 90 days for leads.
    const later = capture();
    const at = new Date(Date.now() + 91 * DAY_MS).toISOString();
    expect(await run(['retention', 'sweep', '--at', at], later)).toBe(0);
    expect(later.stderr.some((line) => /^leads: \d+ scanned, [1-9]\d* expired deleted$/.test(line))).toBe(
      true,
    );
    expect(later.stderr.some((line) => /^audit: \d+ scanned, 0 expired deleted$/.test(line))).toBe(true);
    expect(later.stdout.join('\n')).toMatch(/^Deleted [1-9]\d* expired item\(s\) from 6 tables\.$/);

    expect((await call('GET', `/api/v1/leads/${leadId}`, { token: tenant.viewer })).status).toBe(404);
    const listed = await call('GET', '/api/v1/leads', { token: tenant.viewer });
    expect((listed.body.items as Array<{ id: string }>).map((l) => l.id)).not.toContain(leadId);

    const subject = await subjectId(stack.url, tenant.admin, email);
    const audit = await call('GET', `/api/v1/gdpr/audit?subject_id=${subject}`, { token: tenant.admin });
    expect(audit.status).toBe(200);
    const entries = audit.body.items as Array<{ action: string; details: Record<string, unknown> }>;
    expect(entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          action: 'consent_recorded',
          details: expect.objectContaining({ lead_id: leadId }),
        }),
      ]),
    );
    expect(JSON.stringify(entries)).not.toContain(email);

    // The same person captured again is a new lead: the expired dedup key does not point to the old one.
    const again = await call('POST', '/api/v1/leads', {
      token: tenant.member,
      body: { email, external_id: 'ret-1', consent: { status: 'granted', method: 'form_checkbox' } },
    });
    expect(again.status).toBe(201);
    expect(again.body.lead_ids).not.toContain(leadId);
  });

  it('the local run mode deletes expired items on its own, as DynamoDB TTL does', async () => {
    const client = documentClient();
    const key = { pk: `TENANT#${tenant.id}`, sk: 'LEAD#expired-by-hand' };
    await client.send(
      new PutCommand({
        TableName: stack.env.LEADS_TABLE,
        Item: { ...key, expires_at: Math.floor(Date.now() / 1000) - 1 },
      }),
    );
    await eventually(async () => {
      const out = await client.send(new GetCommand({ TableName: stack.env.LEADS_TABLE, Key: key }));
      return out.Item ? undefined : true;
    }, 'the expired item swept');
  });

  it('the sweep refuses a time it cannot read', async () => {
    const io = capture();
    expect(await run(['retention', 'sweep', '--at', 'next tuesday'], io)).toBe(2);
    expect(io.stderr.join('\n')).toContain('--at must be an ISO time');
  });
});
