/**
 * Property-based requests against the local stack, for every route of the route table and every
 * method on every path: valid and invalid bodies (wrong types, huge and empty values, unicode,
 * control characters, null bytes, duplicate keys, deep nesting, broken JSON), wrong content types,
 * odd path parameters and query strings, with and without valid credentials. Every answer must
 * be: no 5xx but the contract's 503s; every error in the contract envelope with X-Request-Id; no
 * stack trace; no input echoed back in an error.
 *
 * Bounded in `npm test` (FUZZ_RUNS, default 200 cases); the long run: `npm run fuzz`
 * (FUZZ_RUNS=5000). The route table is read at run time, so routes added later are fuzzed too.
 */
import fc from 'fast-check';
import { type HttpMethod, ROUTES, type RouteDefinition } from '../../lib/definitions/routes';
import type { LocalStack } from '../../lib/local/stack';
import { startTestStack } from '../support/local-stack';
import { createTenant, type TestTenant, tokenFor } from '../support/tenants';

const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const METHODS: HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
/** The CONTRACT's 503s (§2): the only 5xx an answer may carry. */
const CONTRACT_503 = new Set([
  'rate_limit_config_error',
  'backup_encryption_required',
  'dependency_unavailable',
  'service_unavailable',
]);
/** A value the fuzzer plants in inputs; an error answer that contains it echoed the input. */
const MARKER = 'fz<script>q9</script>';

let stack: LocalStack;
let tenant: TestTenant;
let platform: string;

beforeAll(async () => {
  for (const name of ['RATE_LIMIT_IP_PER_HOUR', 'RATE_LIMIT_TENANT_PER_HOUR', 'RATE_LIMIT_SHOP_PER_HOUR'])
    process.env[name] = '1000000';
  stack = await startTestStack('fuzz', { withoutConsumers: ['webhooks', 'conversions', 'backups'] });
  tenant = await createTenant(stack.url, 'Fuzzed Agency');
  platform = await tokenFor('platform', 'owner');
});

afterAll(async () => {
  await stack.stop();
});

const nasty = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 50 }),
  fc.string({ unit: 'binary', maxLength: 50 }),
  fc.constantFrom('', ' ', '\u0000', 'a\u0000b', '\u202e', '../../etc/passwd', '%00', "' OR 1=1 --", MARKER),
  fc.constant('x'.repeat(70_000)),
);

/** Path parameters and query values: short (a URL over the gateway's header limit is the gateway's). */
const short = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', 'x', 'lead_0', 'ten_00000000000000000000000000', '\u0000', '..', '%00', MARKER),
);

/** Lone surrogates cannot be sent; they become U+FFFD as a client's encoder would make them. */
const wellFormed = (text: string) => Buffer.from(text, 'utf8').toString('utf8');

const jsonish: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.dictionary(
    fc.constantFrom('email', 'status', 'consent', 'name', 'id', 'tenant_id', 'role', 'gclid'),
    fc.oneof(nasty, fc.jsonValue({ maxDepth: 2 })),
  ),
  fc.constant(null),
);

/** A raw body: JSON of any shape, deep nesting, duplicate keys, broken JSON, bytes. */
const body = fc.oneof(
  jsonish.map((v) => JSON.stringify(v) ?? ''),
  nasty.map((s) => JSON.stringify({ email: s, value: s, consent: { status: s } })),
  fc.integer({ min: 50, max: 5000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`),
  fc.constant(`{"email":"a@b.co","email":"${MARKER}","consent":{"status":"granted"}}`),
  nasty,
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
  fc.constant(''),
);

const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  '',
);

function pathFor(route: RouteDefinition, param: string): string {
  return route.path.replace(/\{\w+\}/g, () => encodeURIComponent(wellFormed(param)));
}

interface Case {
  route: RouteDefinition;
  method: HttpMethod;
  param: string;
  query: Record<string, string>;
  body: string | undefined;
  contentType: string;
  auth: 'none' | 'tenant' | 'platform' | 'garbage';
}

const cases: fc.Arbitrary<Case> = fc
  .record({
    route: fc.constantFrom(...ROUTES),
    method: fc.oneof(
      { weight: 3, arbitrary: fc.constant<HttpMethod | 'route'>('route') },
      fc.constantFrom(...METHODS),
    ),
    param: short,
    query: fc.dictionary(
      fc.constantFrom('limit', 'cursor', 'status', 'subject_id', 'email', 'tenant_id', 'queue'),
      short,
      {
        maxKeys: 3,
      },
    ),
    body: fc.option(body, { nil: undefined }),
    contentType,
    auth: fc.constantFrom('none', 'tenant', 'platform', 'garbage'),
  })
  .map((c) => ({ ...c, method: c.method === 'route' ? c.route.method : c.method }) as Case);

function authorization(kind: Case['auth']): string | undefined {
  if (kind === 'tenant') return `Bearer ${tenant.admin}`;
  if (kind === 'platform') return `Bearer ${platform}`;
  if (kind === 'garbage') return `Bearer ${MARKER}`;
  return undefined;
}

/** What is wrong with an answer, or undefined when it keeps every rule. */
function violation(c: Case, status: number, headers: Headers, text: string): string | undefined {
  if (!headers.get('x-request-id')) return 'no X-Request-Id';
  if (status < 400) return undefined;
  if (/\bat [\w.<>]+ \(|node_modules|\/functions\/|Error: /.test(text))
    return 'a stack trace or internals in the body';
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return 'an error body that is not JSON';
  }
  // CONTRACT §6: an unhealthy service answers /health with 503 and the health document.
  if (c.route.path === '/health' && c.method === 'GET' && status === 503 && parsed.status === 'unhealthy')
    return undefined;
  if (
    typeof parsed.error !== 'string' ||
    typeof parsed.message !== 'string' ||
    typeof parsed.request_id !== 'string'
  )
    return 'an error outside the contract envelope';
  if (status >= 500 && !(status === 503 && CONTRACT_503.has(parsed.error)))
    return `a ${status} ${parsed.error}`;
  if (text.includes(MARKER) || text.includes('q9</script>')) return 'the input echoed back in an error';
  if (c.body && c.body.length > 20 && text.includes(c.body)) return 'the body echoed back in an error';
  return undefined;
}

describe('fuzzing every route of the route table', () => {
  it(`answers ${RUNS} generated requests within the contract`, async () => {
    let count = 0;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        count += 1;
        const query = new URLSearchParams(c.query).toString();
        const headers: Record<string, string> = {};
        const auth = authorization(c.auth);
        if (auth) headers.Authorization = auth;
        if (c.contentType) headers['Content-Type'] = c.contentType;
        const res = await fetch(`${stack.url}${pathFor(c.route, c.param)}${query ? `?${query}` : ''}`, {
          method: c.method,
          headers,
          body: c.body === undefined || c.method === 'GET' ? undefined : wellFormed(c.body),
          redirect: 'manual',
        });
        const text = await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const problem = violation(c, res.status, res.headers, text);
        if (problem) {
          throw new Error(
            `${problem}: ${c.method} ${c.route.path} answered ${res.status} ${text.slice(0, 300)}`,
          );
        }
      }),
      { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }), endOnFailure: true },
    );
    process.stdout.write(
      `fuzz: ${count} requests over ${ROUTES.length} routes and ${METHODS.length} methods; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}\n`,
    );
    expect(count).toBe(RUNS);
  }, 600_000);
});
