import { openCredential } from '../../functions/shared/crypto/credentials';
import { ACCESS_TOKEN_NAME } from '../../functions/shared/meta/settings';
import { MetaIntegrationStore } from '../../functions/shared/meta/store';
import { type FakeMeta, startFakeMeta } from '../../lib/local/fake-meta';
import type { LocalStack } from '../../lib/local/stack';
import { request } from '../support/http';
import { startTestStack } from '../support/local-stack';
import { createTenant, type TestTenant } from '../support/tenants';

const ACCESS_TOKEN = 'EAAB-meta-access-token-tenant-a-0001';

let stack: LocalStack;
let fake: FakeMeta;
let a: TestTenant;
let b: TestTenant;
const call = (method: string, path: string, options?: Parameters<typeof request>[3]) =>
  request(stack.url, method, path, options);

beforeAll(async () => {
  fake = await startFakeMeta();
  process.env.META_GRAPH_BASE_URL = fake.baseUrl;
  process.env.RATE_LIMIT_TENANT_PER_HOUR = '100000';
  process.env.RATE_LIMIT_IP_PER_HOUR = '100000';
  stack = await startTestStack('meta', { retryDelaySeconds: 0 });
  a = await createTenant(stack.url, 'Meta Agency A');
  b = await createTenant(stack.url, 'Meta Agency B');
});

afterEach(() => fake.reset());

afterAll(async () => {
  await stack.stop();
  await fake.close();
  delete process.env.META_GRAPH_BASE_URL;
});

describe('connecting Meta', () => {
  it('stores the pixel, seals the token for the tenant and never returns it; admins only; 400 with details', async () => {
    const res = await call('PUT', '/api/v1/integrations/meta', {
      token: a.admin,
      body: {
        pixel_id: '1234567890',
        access_token: ACCESS_TOKEN,
        test_event_code: 'TEST4242',
        lead_events: true,
      },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      pixel_id: '1234567890',
      test_event_code: 'TEST4242',
      lead_events: true,
      limited_data_use: false,
      status: 'connected',
      updated_at: expect.any(String),
    });
    expect(JSON.stringify(res.body)).not.toContain(ACCESS_TOKEN);

    const stored = await new MetaIntegrationStore().get(a.id);
    expect(JSON.stringify(stored)).not.toContain(ACCESS_TOKEN);
    const sealed = stored?.sealed_access_token as string;
    await expect(openCredential({ tenantId: a.id } as never, ACCESS_TOKEN_NAME, sealed)).resolves.toBe(
      ACCESS_TOKEN,
    );
    // Sealed for tenant A: another tenant's scope cannot open it.
    await expect(openCredential({ tenantId: b.id } as never, ACCESS_TOKEN_NAME, sealed)).rejects.toThrow();
    expect(await new MetaIntegrationStore().get(b.id)).toBeUndefined();

    const member = await call('PUT', '/api/v1/integrations/meta', {
      token: a.member,
      body: { pixel_id: '1234567890', access_token: ACCESS_TOKEN },
    });
    expect(member.status).toBe(403);
    const bad = await call('PUT', '/api/v1/integrations/meta', {
      token: a.admin,
      body: { pixel_id: 'px-1', access_token: 'short', lead_events: 'yes' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('validation_failed');
    expect((bad.body.details as Array<{ path: string }>).map((x) => x.path).sort()).toEqual([
      'access_token',
      'lead_events',
      'pixel_id',
    ]);
  });
});
