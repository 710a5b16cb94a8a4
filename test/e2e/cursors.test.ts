import type { LocalStack } from '../../local/stack';
import { craftedCursors } from '../support/cursors';
import { request } from '../support/http';
import { startTestStack } from '../support/local-stack';
import { createTenant, type TestTenant, tokenFor } from '../support/tenants';

/**
 * Page cursors are authenticated and bound to their tenant, route and filter: a crafted cursor
 * (`base64url({"pk":"TENANT#<own>"})` answered 500 on every tenant list) is 400 validation_failed,
 * and a real cursor works only on the listing it came from.
 */
let stack: LocalStack;
let a: TestTenant;
let b: TestTenant;
let platform: string;
const call = (method: string, path: string, token: string, body?: unknown) =>
  request(stack.url, method, path, { token, ...(body === undefined ? {} : { body }) });

/** The paginated listings, each with whose token reads it. */
const listings = (): Array<[string, () => string]> => [
  ['/api/v1/leads', () => a.owner],
  ['/api/v1/leads?status=new', () => a.owner],
  ['/api/v1/conversions', () => a.owner],
  ['/api/v1/conversions?status=queued', () => a.owner],
  ['/api/v1/gdpr/audit', () => a.owner],
  ['/api/v1/admin/tenants', () => platform],
  ['/api/v1/admin/backups', () => platform],
];
const withCursor = (path: string, cursor: string, limit = 1) =>
  `${path}${path.includes('?') ? '&' : '?'}limit=${limit}&cursor=${encodeURIComponent(cursor)}`;

describe('page cursors over HTTP', () => {
  const issued = new Map<string, string>();

  beforeAll(async () => {
    stack = await startTestStack('cursors', { withoutConsumers: ['webhooks', 'conversions', 'backups'] });
    platform = await tokenFor('platform', 'owner');
    a = await createTenant(stack.url, 'Cursor A');
    b = await createTenant(stack.url, 'Cursor B');
    await createTenant(stack.url, 'Cursor C');
    for (let i = 0; i < 3; i++) {
      const lead = await call('POST', '/api/v1/leads', a.member, {
        email: `page.${i}@example.com`,
        consent: { status: 'granted' },
      });
      expect(lead.status).toBe(201);
      const conversion = await call('POST', '/api/v1/conversions', a.member, {
        fbclid: `IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_page${i}`,
        conversion_time: new Date(Date.now() - 3600_000).toISOString(),
        order_id: `page-order-${i}`,
      });
      expect(conversion.status).toBe(202);
      expect((await call('POST', '/api/v1/admin/backups', platform)).status).toBe(202);
    }
    for (const [path, token] of listings()) {
      const first = await call('GET', `${path}${path.includes('?') ? '&' : '?'}limit=1`, token());
      expect([path, first.status, typeof first.body.next_cursor]).toEqual([path, 200, 'string']);
      issued.set(path, first.body.next_cursor as string);
    }
  });

  afterAll(async () => {
    await stack.stop();
  });

  it('continues each listing with its own cursor', async () => {
    for (const [path, token] of listings()) {
      const next = await call('GET', withCursor(path, issued.get(path) as string), token());
      expect([path, next.status]).toEqual([path, 200]);
      expect((next.body.items as unknown[]).length).toBe(1);
    }
  });

  it('answers crafted cursors with 400 validation_failed on every listing, never 500', async () => {
    for (const [path, token] of listings()) {
      for (const cursor of craftedCursors(a.id, [issued.get(path) as string])) {
        const res = await call('GET', withCursor(path, cursor), token());
        expect([path, cursor.slice(0, 60), res.status]).toEqual([path, cursor.slice(0, 60), 400]);
        expect(res.body).toMatchObject({
          error: 'validation_failed',
          details: [{ path: 'cursor', message: 'Invalid cursor' }],
        });
      }
    }
  });

  it("refuses one listing's cursor on another listing, another filter or another tenant", async () => {
    const leads = issued.get('/api/v1/leads') as string;
    for (const [path, token] of [
      ['/api/v1/leads?status=new', a.owner],
      ['/api/v1/leads?status=won', a.owner],
      ['/api/v1/conversions', a.owner],
      ['/api/v1/gdpr/audit', a.owner],
      ['/api/v1/leads', b.owner],
      ['/api/v1/admin/tenants', platform],
    ] as const) {
      const res = await call('GET', withCursor(path, leads), token);
      expect([path, res.status, res.body.error]).toEqual([path, 400, 'validation_failed']);
    }
    const byStatus = issued.get('/api/v1/conversions?status=queued') as string;
    const res = await call('GET', withCursor('/api/v1/conversions?status=uploaded', byStatus), a.owner);
    expect(res.status).toBe(400);
  });
});
