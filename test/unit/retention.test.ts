import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { networkOf } from '../../functions/shared/features/gdpr/dynamo-audit';
import {
  AUDIT_RETENTION_DAYS,
  DEFAULT_RETENTION,
  epochSeconds,
  expiryOf,
  isExpired,
  isRetentionDays,
  notExpiredFilter,
} from '../../functions/shared/features/retention/rules';
import {
  cachedRetention,
  RetentionStore,
  retentionOfTenant,
} from '../../functions/shared/features/tenancy/dynamo-retention';
import { retentionBody } from '../../functions/shared/features/tenancy/schema';
import { BoundedCache } from '../../functions/shared/platform/cache';

describe('retention policy', () => {
  it('defaults to 400 days for leads and conversions and six years of audit', () => {
    expect(DEFAULT_RETENTION).toEqual({ leads_days: 400, conversions_days: 400 });
    expect(AUDIT_RETENTION_DAYS).toBe(2_190);
  });

  it('accepts whole days from 90 to 1,095', () => {
    for (const ok of [90, 400, 1_095]) expect(isRetentionDays(ok)).toBe(true);
    for (const bad of [89, 1_096, 90.5, '400', null, undefined, Number.NaN])
      expect(isRetentionDays(bad)).toBe(false);
  });

  it('the body schema refuses what is out of bounds or missing', () => {
    expect(retentionBody.safeParse({ leads_days: 90, conversions_days: 1_095 }).success).toBe(true);
    expect(retentionBody.safeParse({ leads_days: 89, conversions_days: 400 }).success).toBe(false);
    expect(retentionBody.safeParse({ leads_days: 400, conversions_days: 1_096 }).success).toBe(false);
    expect(retentionBody.safeParse({ leads_days: 400.5, conversions_days: 400 }).success).toBe(false);
    expect(retentionBody.safeParse({ leads_days: 400 }).success).toBe(false);
  });

  it('an expiry is the change time in epoch seconds plus the days', () => {
    expect(expiryOf('2026-01-01T00:00:00.000Z', 90)).toBe(Date.parse('2026-04-01T00:00:00Z') / 1000);
    expect(expiryOf(new Date('2026-01-01T00:00:00.999Z'), 1)).toBe(Date.parse('2026-01-02T00:00:00Z') / 1000);
    expect(() => expiryOf('not a time', 90)).toThrow('expiryOf needs a valid time');
    expect(epochSeconds(new Date('1970-01-01T00:00:10.5Z'))).toBe(10);
  });

  it('an item is expired at and after its expiry; one without an expiry never is', () => {
    const now = new Date('2026-06-01T00:00:00Z');
    const at = epochSeconds(now);
    expect(isExpired({ expires_at: at }, now)).toBe(true);
    expect(isExpired({ expires_at: at - 1 }, now)).toBe(true);
    expect(isExpired({ expires_at: at + 1 }, now)).toBe(false);
    expect(isExpired({}, now)).toBe(false);
    expect(isExpired(undefined, now)).toBe(false);
    expect(isExpired({ expires_at: String(at - 1) }, now)).toBe(false);
    expect(notExpiredFilter(now)).toEqual({
      expression: 'attribute_not_exists(#expires_at) OR #expires_at > :now_seconds',
      names: { '#expires_at': 'expires_at' },
      values: { ':now_seconds': at },
    });
  });

  it('the audit trail keeps a caller only as its network', () => {
    expect(networkOf('203.0.113.77')).toBe('203.0.113.0');
    expect(networkOf('2001:db8:85a3:8d3:1319:8a2e:370:7348')).toBe('2001:db8:85a3::');
    expect(networkOf('2001:db8::1')).toBe('2001:db8::');
    expect(networkOf('::1')).toBe('::');
    expect(networkOf('')).toBe('unknown');
    expect(networkOf('not-an-ip')).toBe('unknown');
  });

  it("remembers a tenant's retention for a while, per tenant", async () => {
    let now = 0;
    const reads: string[] = [];
    const store = {
      get: async (tenantId: string) => {
        reads.push(tenantId);
        return { leads_days: 90, conversions_days: 120, updated_at: '2026-01-01T00:00:00.000Z' };
      },
    };
    const retention = cachedRetention(store, new BoundedCache(10, 30_000, () => now));
    expect(await retention('ten_a')).toEqual({ leads_days: 90, conversions_days: 120 });
    await retention('ten_a');
    await retention('ten_b');
    expect(reads).toEqual(['ten_a', 'ten_b']);
    now = 30_000;
    await retention('ten_a');
    expect(reads).toEqual(['ten_a', 'ten_b', 'ten_a']);
  });

  describe('the retention store', () => {
    const storeAnswering = (item: Record<string, unknown> | undefined) => {
      const sent: unknown[] = [];
      const client = {
        send: async (command: { input: unknown }) => {
          sent.push(command.input);
          return { Item: item };
        },
      } as unknown as DynamoDBDocumentClient;
      return { store: new RetentionStore(client, 'tenants-table'), sent };
    };

    it('reads the tenant settings item, consistently', async () => {
      const { store, sent } = storeAnswering(undefined);
      expect(await store.get('ten_x')).toEqual(DEFAULT_RETENTION);
      expect(sent).toEqual([
        {
          TableName: 'tenants-table',
          Key: { pk: 'TENANT#ten_x', sk: 'SETTINGS#retention' },
          ConsistentRead: true,
        },
      ]);
    });

    it('answers each value it cannot read as the default, and updated_at only when it is text', async () => {
      expect(
        await storeAnswering({ leads_days: 89, conversions_days: '400', updated_at: 5 }).store.get('t'),
      ).toEqual(DEFAULT_RETENTION);
      expect(
        await storeAnswering({
          leads_days: 120,
          conversions_days: 1_095,
          updated_at: '2026-12-01T00:00:00.000Z',
        }).store.get('t'),
      ).toEqual({ leads_days: 120, conversions_days: 1_095, updated_at: '2026-12-01T00:00:00.000Z' });
      expect(await storeAnswering({ leads_days: 120, conversions_days: 2_000 }).store.get('t')).toEqual({
        leads_days: 120,
        conversions_days: 400,
      });
    });

    it('saves exactly the two values with the time, under the scope’s tenant', async () => {
      const { store, sent } = storeAnswering(undefined);
      const saved = await store.save(
        { tenantId: 'ten_y' } as never,
        { leads_days: 90, conversions_days: 91, ...{ audit_days: 1 } } as never,
        new Date('2026-12-07T10:00:00Z'),
      );
      expect(saved).toEqual({ leads_days: 90, conversions_days: 91, updated_at: '2026-12-07T10:00:00.000Z' });
      expect(sent).toEqual([
        {
          TableName: 'tenants-table',
          Item: {
            pk: 'TENANT#ten_y',
            sk: 'SETTINGS#retention',
            leads_days: 90,
            conversions_days: 91,
            updated_at: '2026-12-07T10:00:00.000Z',
          },
        },
      ]);
    });

    it('one shared, lazily built reader per container', () => {
      expect(retentionOfTenant()).toBe(retentionOfTenant());
      expect(typeof cachedRetention()).toBe('function');
    });
  });
});
