/**
 * `smoke --url` against a stage that is broken in each way a deployment can break: every check
 * reports what it saw in a sentence, later checks that depend on a failed one are reported as not
 * run, and the command exits 1. (test/e2e/smoke.test.ts runs it against a healthy stack.)
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { run } from '../../ops/cli';
import { capture } from '../support/operator';

type Route = (
  req: IncomingMessage,
  body: string,
) => { status: number; body?: unknown; headers?: Record<string, string> };

const RATE_LIMIT = { 'x-ratelimit-limit': '100', 'x-ratelimit-remaining': '99', 'x-ratelimit-reset': '60' };
const healthy: Record<string, Route> = {
  'GET /health': () => ({
    status: 200,
    body: { status: 'healthy', checks: { dynamodb: { status: 'pass' } } },
  }),
  'GET /api/v1/openapi.json': () => ({ status: 200, body: { openapi: '3.1.0' } }),
  'POST /api/v1/auth/token': () => ({ status: 200, body: { access_token: 'token-1' }, headers: RATE_LIMIT }),
  'POST /api/v1/shopify/webhook': () => ({
    status: 401,
    body: { error: 'invalid_signature', message: 'no' },
  }),
};

// The reports are spelled out in full on purpose, as the oracle of what the operator reads.
describe('smoke against a broken stage', () => {
  let server: Server;
  let url: string;
  let routes: Record<string, Route>;

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        // Reads and erasures name their lead or subject last: one route each.
        const path = (req.url ?? '/').replace(/^(\/api\/v1\/(?:leads|gdpr\/subjects))\/.*$/, '$1/{id}');
        const route = routes[`${req.method} ${path}`];
        const answer = route
          ? route(req, Buffer.concat(chunks).toString('utf8'))
          : { status: 404, body: { error: 'not_found', message: 'no route' } };
        res.writeHead(answer.status, { 'Content-Type': 'application/json', ...answer.headers });
        res.end(
          typeof answer.body === 'string'
            ? answer.body
            : answer.body === undefined
              ? ''
              : JSON.stringify(answer.body),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function smoke(): Promise<{ code: number; lines: string[] }> {
    const io = capture();
    const code = await run(['smoke', '--url', `${url}/`, '--api-key', 'ak_smoke'], io);
    return { code, lines: io.stderr.slice(1) };
  }

  it('reports an unhealthy stage, a document without version, missing rate-limit headers, and a webhook refused for the wrong reason', async () => {
    routes = {
      'GET /health': () => ({
        status: 503,
        body: { status: 'unhealthy', checks: { dynamodb: { status: 'fail' }, kms: { status: 'pass' } } },
      }),
      'GET /api/v1/openapi.json': () => ({ status: 200, body: { swagger: '2.0' } }),
      'POST /api/v1/auth/token': () => ({ status: 200, body: { access_token: 'token-1' } }),
      'POST /api/v1/shopify/webhook': () => ({ status: 401, body: { error: 'unauthorized', message: 'no' } }),
    };
    expect(await smoke()).toEqual({
      code: 1,
      lines: [
        '  FAIL  health is healthy or degraded: /health answered 503 unhealthy (dynamodb: fail)',
        '  FAIL  OpenAPI document is served: the document has no openapi version',
        '  FAIL  API key exchanged for a token, with rate-limit headers: rate-limit headers missing: x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset',
        '  FAIL  a synthetic lead is captured and read back: not run (no token)',
        '  FAIL  the synthetic lead is erased: not run (no lead was captured)',
        '  FAIL  a webhook with a bad signature is refused: expected invalid_signature, got unauthorized',
        'Smoke test FAILED: 6 of 6 checks',
      ],
    });
  });

  it('reports empty and non-JSON answers, a token answer without a token, and an error answer', async () => {
    routes = {
      'GET /health': () => ({ status: 200 }),
      'GET /api/v1/openapi.json': () => ({ status: 200, body: '<html>Not here</html>' }),
      'POST /api/v1/auth/token': () => ({ status: 200, body: { token: 'x' }, headers: RATE_LIMIT }),
      'POST /api/v1/shopify/webhook': () => ({ status: 500, body: { error: 'internal', message: 'boom' } }),
    };
    const { code, lines } = await smoke();
    expect(code).toBe(1);
    expect(lines).toEqual([
      '  FAIL  health is healthy or degraded: /health answered 200 undefined',
      '  FAIL  OpenAPI document is served: GET /api/v1/openapi.json answered 200 with a body that is not JSON',
      '  FAIL  API key exchanged for a token, with rate-limit headers: no access_token in the answer',
      '  FAIL  a synthetic lead is captured and read back: not run (no token)',
      '  FAIL  the synthetic lead is erased: not run (no lead was captured)',
      '  FAIL  a webhook with a bad signature is refused: POST /api/v1/shopify/webhook with a bad signature answered 500 internal: boom (expected 401)',
      'Smoke test FAILED: 6 of 6 checks',
    ]);
  });

  it('reports a lead that was not stored, or not the one read back', async () => {
    routes = { ...healthy, 'POST /api/v1/leads': () => ({ status: 201, body: { lead_ids: [] } }) };
    const none = await smoke();
    expect(none.code).toBe(1);
    expect(none.lines.slice(3, 5)).toEqual([
      '  FAIL  a synthetic lead is captured and read back: POST /api/v1/leads stored no lead',
      '  FAIL  the synthetic lead is erased: not run (no lead was captured)',
    ]);
    routes = {
      ...healthy,
      'POST /api/v1/leads': () => ({ status: 201, body: { lead_ids: ['lead_1'] } }),
      'GET /api/v1/leads/{id}': () => ({
        status: 200,
        body: { id: 'lead_1', email: 'someone-else@example.com' },
      }),
    };
    expect((await smoke()).lines[3]).toBe(
      '  FAIL  a synthetic lead is captured and read back: the lead read back is not the one captured',
    );
  });

  it('reports an erasure that could not find the subject; the other checks pass', async () => {
    let email = '';
    routes = {
      ...healthy,
      'POST /api/v1/leads': (_req, body) => {
        email = (JSON.parse(body) as { email: string }).email;
        return { status: 201, body: { lead_ids: ['lead_2'] } };
      },
      'GET /api/v1/leads/{id}': () => ({ status: 200, body: { id: 'lead_2', email } }),
      'POST /api/v1/gdpr/subjects': () => ({ status: 200, body: {} }),
    };
    const { code, lines } = await smoke();
    expect(code).toBe(1);
    expect(lines).toEqual([
      '  ok    health is healthy or degraded',
      '  ok    OpenAPI document is served',
      '  ok    API key exchanged for a token, with rate-limit headers',
      '  ok    a synthetic lead is captured and read back',
      '  FAIL  the synthetic lead is erased: DELETE /api/v1/gdpr/subjects/{subject_id} answered 404 not_found: no route (expected 200)',
      '  ok    a webhook with a bad signature is refused',
      'Smoke test FAILED: 1 of 6 checks',
    ]);
  });

  it('says which request did not answer when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const io = capture();
    expect(await run(['smoke', '--url', `http://127.0.0.1:${port}`, '--api-key', 'ak_smoke'], io)).toBe(1);
    expect(io.stderr[1]).toBe(
      '  FAIL  health is healthy or degraded: GET /health did not answer (ECONNREFUSED)',
    );
  });

  it('needs a URL and an API key', async () => {
    const saved = process.env.SMOKE_API_KEY;
    delete process.env.SMOKE_API_KEY;
    try {
      const noUrl = capture();
      expect(await run(['smoke', '--url', 'ftp://example.org', '--api-key', 'k'], noUrl)).toBe(2);
      expect(noUrl.stderr[0]).toMatch(/^smoke needs --url <http\(s\) base url>/);
      const noKey = capture();
      expect(await run(['smoke', '--url', url], noKey)).toBe(2);
      expect(noKey.stderr[0]).toMatch(/^smoke needs --api-key <key> or SMOKE_API_KEY/);
    } finally {
      if (saved !== undefined) process.env.SMOKE_API_KEY = saved;
    }
  });
});
