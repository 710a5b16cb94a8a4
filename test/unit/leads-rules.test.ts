import fc from 'fast-check';
import { createConversionBody } from '../../functions/shared/features/conversions/schema';
import type { StoredLead } from '../../functions/shared/features/leads/model';
import { googleClickId, primaryClickId } from '../../functions/shared/features/leads/rules/click-ids';
import {
  allowsUpload,
  isValidConsent,
  resolveConsent,
} from '../../functions/shared/features/leads/rules/consent';
import { hasherFor } from '../../functions/shared/features/leads/rules/email-hash';
import { normaliseEmail, normalisePhone } from '../../functions/shared/features/leads/rules/normalise';
import {
  canMove,
  leadSchema,
  parseLeadsBody,
  patchLeadBody,
} from '../../functions/shared/features/leads/schema';
import { dedupKeysOf, normaliseLeads } from '../../functions/shared/features/leads/service';
import { conversionsForWon, planWon, queueWon } from '../../functions/shared/features/leads/service-won';
import { platformScope } from '../../functions/shared/features/tenancy/rules/scope';
import { HttpError } from '../../functions/shared/platform/http/errors';
import { NOT_BLANK } from '../../functions/shared/platform/http/schema-text';
import { parseWith } from '../../functions/shared/platform/http/validation';
import { fbclid, gbraid, gclid, wbraid } from '../support/click-ids';
import { storedLead } from '../support/fixtures';

const scope = platformScope({ tenantId: 'platform', role: 'owner', subject: 's', method: 'jwt' }, 'ten_a');
const hash = hasherFor('unit-test-email-hash-key-0123456789abcdef');

describe('consent rule', () => {
  it.each([
    ['granted', undefined, undefined, true],
    ['granted', 'api_call', undefined, true],
    ['pending', 'cookie_banner', '2026-11-01T00:00:00Z', true],
    ['pending', 'cookie_banner', undefined, false],
    ['pending', 'form_checkbox', '2026-11-01T00:00:00Z', false],
    ['denied', 'cookie_banner', '2026-11-01T00:00:00Z', false],
    ['withdrawn', 'cookie_banner', '2026-11-01T00:00:00Z', false],
  ] as const)('%s via %s at %s is valid: %s', (status, method, timestamp, valid) => {
    const consent = { status, ...(method ? { method } : {}), ...(timestamp ? { timestamp } : {}) };
    expect(isValidConsent(consent)).toBe(valid);
    const resolved = resolveConsent(consent);
    expect(resolved.ad_user_data).toBe(valid ? 'granted' : 'denied');
    expect(allowsUpload(resolved)).toBe(valid);
  });

  it('keeps explicit ad signals, and denied ad data blocks uploads', () => {
    const resolved = resolveConsent({
      status: 'granted',
      ad_user_data: 'denied',
      ad_personalization: 'granted',
    });
    expect(resolved).toEqual({ status: 'granted', ad_user_data: 'denied', ad_personalization: 'granted' });
    expect(allowsUpload(resolved)).toBe(false);
  });
});

describe('normalisation', () => {
  it('normalises emails and refuses implausible ones', () => {
    expect(normaliseEmail('  Jane.Doe+ads@Example.CO.uk ')).toBe('jane.doe+ads@example.co.uk');
    for (const bad of [
      '',
      'plain',
      'a@b',
      'a@@b.com',
      'a b@c.com',
      `${'x'.repeat(65)}@example.com`,
      'a@-b.com',
    ]) {
      expect(normaliseEmail(bad)).toBeUndefined();
    }
  });

  it('writes phones in E.164 when the country is known or given', () => {
    expect(normalisePhone('+49 151 23456789')).toBe('+4915123456789');
    expect(normalisePhone('030 1234567', 'de')).toBe('+49301234567');
    expect(normalisePhone('(415) 555-2671', 'US')).toBe('+14155552671');
    expect(normalisePhone('030 1234567')).toBeUndefined();
    expect(normalisePhone('12')).toBeUndefined();
    expect(normalisePhone('')).toBeUndefined();
  });

  it('hashes emails per tenant with a key that must be long enough', () => {
    expect(hash('t1', 'a@example.com')).toMatch(/^[0-9a-f]{64}$/);
    expect(hash('t1', 'a@example.com')).not.toBe(hash('t2', 'a@example.com'));
    expect(() => hasherFor('short')).toThrow('at least 32 bytes');
  });
});

describe('lead schema', () => {
  const granted = { status: 'granted' };
  const errorOf = (data: unknown) => {
    try {
      parseLeadsBody(data, parseWith);
    } catch (error) {
      return error as HttpError;
    }
    throw new Error('accepted');
  };

  it('accepts real-shaped click ids, one Google id at a time', () => {
    for (const id of [
      { gclid: gclid() },
      { gbraid: gbraid() },
      { wbraid: wbraid() },
      { gclid: `GCLID_${'a'.repeat(30)}` },
    ]) {
      expect(parseWith(leadSchema, { email: 'a@example.com', ...id, consent: granted })).toMatchObject(id);
    }
    const both = errorOf({ email: 'a@example.com', gclid: gclid(), wbraid: wbraid(), consent: granted });
    expect(both.extra.details).toEqual([
      { path: 'gclid', message: 'At most one of gclid, gbraid and wbraid may be given' },
    ]);
    expect(errorOf([{ email: 'a@example.com', gclid: 'short', consent: granted }]).extra.details).toEqual([
      { path: '0.gclid', message: 'Invalid GCLID format' },
    ]);
  });

  it('names the click id a lead is deduplicated and uploaded by', () => {
    expect(googleClickId({ gbraid: 'g', fbclid: 'f' })).toEqual({ field: 'gbraid', value: 'g' });
    expect(primaryClickId({ fbclid: fbclid(), msclkid: 'm' })).toBe(fbclid());
    expect(primaryClickId({ msclkid: 'm' })).toBe('m');
    expect(dedupKeysOf({ email: 'a@b.co', external_id: 'x' }, 'h')).toEqual(['EXT#x', 'EC#h#-']);
  });

  it('moves statuses forward only, won being final', () => {
    expect(canMove('new', 'won')).toBe(true);
    expect(canMove('won', 'lost')).toBe(false);
    expect(canMove('lost', 'contacted')).toBe(true);
  });

  it('does not crash on any input: anything invalid is a 400 with details', () => {
    fc.assert(
      fc.property(fc.anything(), (data) => {
        try {
          const { single, leads } = parseLeadsBody(data, parseWith);
          normaliseLeads(scope, leads, hash, single);
        } catch (error) {
          expect(error).toBeInstanceOf(HttpError);
          expect((error as HttpError).status).toBe(400);
          const details = (error as HttpError).extra.details as Array<{ path: string; message: string }>;
          expect(details.length).toBeGreaterThan(0);
          for (const d of details) expect(typeof d.message).toBe('string');
        }
      }),
      { numRuns: 500 },
    );
  });

  it('normalises any valid lead to a stable, lower-cased email and its hash', () => {
    const lead = fc.record({
      email: fc.emailAddress(),
      consent: fc.record({ status: fc.constantFrom('granted', 'denied', 'pending', 'withdrawn') }),
      value: fc.option(fc.double({ min: 0, max: 1e9, noNaN: true }), { nil: undefined }),
      gclid: fc.option(fc.stringMatching(/^[A-Za-z0-9_-]{20,200}$/), { nil: undefined }),
    });
    fc.assert(
      fc.property(lead, (input) => {
        let parsed: ReturnType<typeof parseLeadsBody>;
        try {
          parsed = parseLeadsBody(JSON.parse(JSON.stringify(input)), parseWith);
        } catch (error) {
          // fast-check's generator allows addresses beyond our length rules; those are refused cleanly.
          expect((error as HttpError).status).toBe(400);
          return;
        }
        try {
          const [normalised] = normaliseLeads(scope, parsed.leads, hash, true);
          expect(normalised?.fields.email).toBe(normalised?.fields.email.toLowerCase());
          expect(normalised?.emailHash).toBe(hash('ten_a', normalised?.fields.email as string));
        } catch (error) {
          expect((error as HttpError).status).toBe(400);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('conversions of a won lead', () => {
  const lead: StoredLead = storedLead({
    id: 'lead_01abcdefghjkmnpqrstvwxyz0',
    email: 'a@example.com',
    gclid: gclid(),
    fbclid: fbclid(),
    value: 50,
    currency: 'EUR',
    consent: resolveConsent({ status: 'granted' }),
    created_at: '2026-11-25T10:00:00.000Z',
    updated_at: '2026-11-25T10:00:00.000Z',
    version: 2,
  });
  const now = new Date('2026-11-25T12:00:00.000Z');

  it('one per platform, time and order id fixed, ids derived from the lead', () => {
    const conversions = conversionsForWon(lead, { orderId: 'o-9' }, now);
    expect(conversions.map((c) => [c.id, c.platform, c.click_id_type])).toEqual([
      ['cnv_01abcdefghjkmnpqrstvwxyz0g', 'google_ads', 'gclid'],
      ['cnv_01abcdefghjkmnpqrstvwxyz0m', 'meta', 'fbclid'],
    ]);
    for (const c of conversions) {
      expect(c).toMatchObject({
        order_id: 'o-9',
        conversion_time: now.toISOString(),
        value: 50,
        currency: 'EUR',
      });
    }
    expect(conversionsForWon(lead, {}, now)[0]?.order_id).toBe(`lead-${lead.id}`);
  });

  it("plans under the tenant's rules and queues each conversion once, answering only those queued now", async () => {
    const scope = { tenantId: 'ten_won' } as Parameters<typeof planWon>[1];
    const asked: string[] = [];
    const noClick = { ...lead, gclid: undefined, fbclid: undefined } as StoredLead;
    const rules = async (tenantId: string) => {
      asked.push(tenantId);
      return { google_ads: { enhancedConversionsForLeads: true } };
    };
    const plan = await planWon({ rules }, scope, noClick, { orderId: 'o-10', uniqueBy: 'shopify:o-10' }, now);
    expect(asked).toEqual(['ten_won']);
    expect(plan.conversions.map((c) => [c.platform, c.match])).toEqual([['google_ads', 'user_data']]);
    const stored = new Set<string>();
    const queue = async (_scope: unknown, conversion: { id: string }) => {
      if (stored.has(conversion.id)) return 'exists' as const;
      stored.add(conversion.id);
      return 'queued' as const;
    };
    const both = conversionsForWon(lead, { orderId: 'o-11', uniqueBy: 'shopify:o-11' }, now);
    expect((await queueWon({ queue }, scope, both)).map((c) => c.platform)).toEqual(['google_ads', 'meta']);
    expect(await queueWon({ queue }, scope, both)).toEqual([]);
  });

  it('none when restricted or without upload consent', () => {
    expect(conversionsForWon({ ...lead, restricted: true }, {}, now)).toEqual([]);
    expect(conversionsForWon({ ...lead, consent: resolveConsent({ status: 'withdrawn' }) }, {}, now)).toEqual(
      [],
    );
  });
});

describe('what the OpenAPI document calls valid, the schemas take', () => {
  const consent = { status: 'granted' };
  it('keep sale values to six decimals, so a value too small for DynamoDB becomes 0', () => {
    expect(leadSchema.parse({ email: 'a@example.org', consent, value: 5e-324 }).value).toBe(0);
    expect(leadSchema.parse({ email: 'a@example.org', consent, value: 12.3456789 }).value).toBe(12.345679);
    expect(patchLeadBody.parse({ value: 1.357e-151 }).value).toBe(0);
    const conversion = createConversionBody.parse({ lead_id: 'lead_1', value: 999_999_999.9999996 });
    expect(conversion).toMatchObject({ value: 1_000_000_000 });
    expect(leadSchema.safeParse({ email: 'a@example.org', consent, value: -1e-9 }).success).toBe(false);
  });

  it('refuse a blank text exactly when its documented pattern does', () => {
    const blank = new RegExp(NOT_BLANK);
    for (const utm_source of [' ', '\t\n', '\u00a0', '\ufeff', ' a ', 'x']) {
      const taken = leadSchema.safeParse({ email: 'a@example.org', consent, utm_source }).success;
      expect({ utm_source, taken }).toEqual({ utm_source, taken: blank.test(utm_source) });
    }
  });
});
