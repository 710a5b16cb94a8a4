/**
 * Post-deployment verification of a live stage over HTTP, as a client sees it: health, the
 * OpenAPI document, an API key exchanged for a token, a synthetic lead captured, read back and
 * erased, a webhook with a bad signature refused, rate-limit headers present. Every check is
 * reported; any failure makes the run fail.
 */
import { randomBytes } from 'node:crypto';

export interface SmokeOptions {
  /** Base URL of the stage, e.g. https://api.example.org (no trailing slash needed). */
  readonly url: string;
  /** An admin API key of the stage's synthetic smoke tenant. */
  readonly apiKey: string;
  /** Progress lines, one per check. */
  readonly progress: (line: string) => void;
  /** Per request; default 10 s. */
  readonly timeoutMs?: number;
}

export interface SmokeResult {
  readonly passed: string[];
  readonly failed: { check: string; reason: string }[];
}

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

class CheckFailed extends Error {}

const RATE_LIMIT_HEADERS = ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'];

export async function smoke(options: SmokeOptions): Promise<SmokeResult> {
  const base = options.url.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;
  const result: SmokeResult = { passed: [], failed: [] };

  async function call(
    method: string,
    path: string,
    init: { headers?: Record<string, string>; body?: string } = {},
  ) {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: init.headers ?? {},
        ...(init.body === undefined ? {} : { body: init.body }),
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'manual',
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new CheckFailed(`${method} ${path} did not answer (${why})`);
    }
    const text = await res.text();
    let body: Record<string, unknown> = {};
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      throw new CheckFailed(`${method} ${path} answered ${res.status} with a body that is not JSON`);
    }
    return { status: res.status, headers: res.headers, body } satisfies Answer;
  }

  const expectStatus = (answer: Answer, what: string, ...statuses: number[]) => {
    if (!statuses.includes(answer.status)) {
      const error =
        typeof answer.body.error === 'string' ? ` ${answer.body.error}: ${String(answer.body.message)}` : '';
      throw new CheckFailed(`${what} answered ${answer.status}${error} (expected ${statuses.join(' or ')})`);
    }
  };

  async function check<T>(name: string, run: () => Promise<T>): Promise<T | undefined> {
    try {
      const value = await run();
      result.passed.push(name);
      options.progress(`  ok    ${name}`);
      return value;
    } catch (error) {
      const reason =
        error instanceof CheckFailed ? error.message : `unexpected error: ${(error as Error).message}`;
      result.failed.push({ check: name, reason });
      options.progress(`  FAIL  ${name}: ${reason}`);
      return undefined;
    }
  }

  const skip = (name: string, because: string) => {
    result.failed.push({ check: name, reason: `not run: ${because}` });
    options.progress(`  FAIL  ${name}: not run (${because})`);
  };

  options.progress(`Smoke test of ${base}`);
  await check('health is healthy or degraded', async () => {
    const answer = await call('GET', '/health');
    const checks = Object.entries((answer.body.checks ?? {}) as Record<string, { status?: string }>)
      .filter(([, c]) => c.status !== 'pass' && c.status !== 'ok')
      .map(([name, c]) => `${name}: ${c.status}`);
    if (answer.status !== 200 || !['healthy', 'degraded'].includes(String(answer.body.status))) {
      throw new CheckFailed(
        `/health answered ${answer.status} ${String(answer.body.status)}${checks.length ? ` (${checks.join(', ')})` : ''}`,
      );
    }
  });

  await check('OpenAPI document is served', async () => {
    const answer = await call('GET', '/api/v1/openapi.json');
    expectStatus(answer, 'GET /api/v1/openapi.json', 200);
    if (typeof answer.body.openapi !== 'string') throw new CheckFailed('the document has no openapi version');
  });

  const token = await check('API key exchanged for a token, with rate-limit headers', async () => {
    const answer = await call('POST', '/api/v1/auth/token', {
      headers: { Authorization: `ApiKey ${options.apiKey}` },
    });
    expectStatus(answer, 'POST /api/v1/auth/token', 200);
    const missing = RATE_LIMIT_HEADERS.filter((h) => !answer.headers.get(h));
    if (missing.length) throw new CheckFailed(`rate-limit headers missing: ${missing.join(', ')}`);
    if (typeof answer.body.access_token !== 'string') throw new CheckFailed('no access_token in the answer');
    return answer.body.access_token;
  });

  const email = `smoke-${randomBytes(6).toString('hex')}@smoke.adsengineer.example`;
  const json = (bearer: string, body: unknown) => ({
    headers: { Authorization: `Bearer ${bearer}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  let leadId: string | undefined;
  if (token) {
    leadId = await check('a synthetic lead is captured and read back', async () => {
      const created = await call(
        'POST',
        '/api/v1/leads',
        json(token, {
          email,
          consent: { status: 'granted', method: 'api_call', timestamp: new Date().toISOString() },
        }),
      );
      expectStatus(created, 'POST /api/v1/leads', 201);
      const id = (created.body.lead_ids as string[] | undefined)?.[0];
      if (!id) throw new CheckFailed('POST /api/v1/leads stored no lead');
      const read = await call('GET', `/api/v1/leads/${encodeURIComponent(id)}`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      expectStatus(read, 'GET /api/v1/leads/{id}', 200);
      if (read.body.email !== email) throw new CheckFailed('the lead read back is not the one captured');
      return id;
    });
  } else {
    skip('a synthetic lead is captured and read back', 'no token');
  }
  if (token && leadId) {
    await check('the synthetic lead is erased', async () => {
      const lookup = await call('POST', '/api/v1/gdpr/subjects', json(token, { email }));
      expectStatus(lookup, 'POST /api/v1/gdpr/subjects', 200);
      const subject = String(lookup.body.subject_id ?? '');
      const erased = await call('DELETE', `/api/v1/gdpr/subjects/${encodeURIComponent(subject)}`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      expectStatus(erased, 'DELETE /api/v1/gdpr/subjects/{subject_id}', 200);
      const gone = await call('GET', `/api/v1/leads/${encodeURIComponent(leadId as string)}`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      expectStatus(gone, 'GET /api/v1/leads/{id} after erasure', 404);
    });
  } else {
    skip('the synthetic lead is erased', 'no lead was captured');
  }

  await check('a webhook with a bad signature is refused', async () => {
    const answer = await call('POST', '/api/v1/shopify/webhook', {
      headers: {
        'Content-Type': 'application/json',
        'X-Shopify-Topic': 'orders/paid',
        'X-Shopify-Shop-Domain': 'smoke-test.myshopify.com',
        'X-Shopify-Hmac-Sha256': Buffer.from('not a signature').toString('base64'),
        'X-Shopify-Webhook-Id': `smoke-${randomBytes(6).toString('hex')}`,
      },
      body: '{"id":1}',
    });
    expectStatus(answer, 'POST /api/v1/shopify/webhook with a bad signature', 401);
    if (answer.body.error !== 'invalid_signature') {
      throw new CheckFailed(`expected invalid_signature, got ${String(answer.body.error)}`);
    }
  });

  options.progress(
    result.failed.length
      ? `Smoke test FAILED: ${result.failed.length} of ${result.passed.length + result.failed.length} checks`
      : `Smoke test passed: ${result.passed.length} checks`,
  );
  return result;
}
