/**
 * Fuzzing from the OpenAPI document, against the local stack. The fuzzer walks the `paths` of the
 * document the project builds (tools/openapi/document.ts, the one in docs/openapi.json) and, for
 * every operation, derives from its JSON Schemas (request body, path and query parameters, `$ref`s
 * into the components) an arbitrary of VALID inputs (test/support/json-schema-arbitrary.ts). It
 * sends three kinds of request:
 *
 * - valid: a generated schema-valid input with the credentials the operation's `security` asks
 *   for (a tenant owner JWT, a platform admin JWT, an API key, a signed webhook delivery); path
 *   parameters are often ids the API answered earlier, so requests reach real resources;
 * - mutated: a valid input with one field changed (wrong type, null, huge, empty, unicode, control
 *   characters, null bytes, the echo marker), a field dropped, or a property the body must not
 *   set added (tenant_id, id, status, created_at… — mass assignment), or a parameter changed;
 * - nasty: any path of the document with any method, bodies of any shape (duplicate keys, deep
 *   nesting, broken JSON, bytes), wrong content types, odd parameters, no, valid or garbage auth.
 *
 * Every answer must: carry X-Request-Id; never be a 5xx but the contract's 503s; put every error
 * in the contract envelope with no stack trace and no input echoed back; have a status the
 * document declares for the operation (the body and headers then as the document describes
 * them), or one of the contract's generic error statuses. An input the document calls valid must
 * not be refused with 400, unless for a rule the document states in words (DOCUMENTED_RULES);
 * a property the body must not set never shows in a success answer.
 *
 * Bounded in `npm test` (FUZZ_RUNS, default 300 cases, plus two valid requests per
 * operation); the long run: `npm run fuzz` (FUZZ_RUNS=5000). FUZZ_SEED replays a run;
 * FUZZ_KEEP_GOING=1 reports every distinct violation at the end instead of stopping at the first. The document is read at
 * run time, so operations added later are fuzzed too. Case counts, statuses and per-operation
 * counts are printed at the end.
 */
import { createHmac } from 'node:crypto';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import fc from 'fast-check';
import { matchPath, ROUTES, type RouteDefinition, routeKey } from '../../contract/routes';
import {
  WEBHOOK_HEADER_RULES,
  type WebhookSender,
} from '../../functions/shared/features/webhooks/rules/headers';
import type { LocalStack } from '../../local/stack';
import { version } from '../../package.json';
import { buildOpenApiDocument } from '../../tools/openapi/document';
import { contractProblems } from '../support/contract';
import { craftedCursors } from '../support/cursors';
import { request } from '../support/http';
import { arbitraryOf, FORMATS, type JsonSchema, resolveSchema } from '../support/json-schema-arbitrary';
import { startTestStack } from '../support/local-stack';
import { createTenant, type TestTenant, tokenFor } from '../support/tenants';

type Json = Record<string, unknown>;

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
/** The documented 503s (docs/api.md, Errors): the only 5xx an answer may carry. */
const DOCUMENTED_503 = new Set([
  'rate_limit_config_error',
  'backup_encryption_required',
  'dependency_unavailable',
  'service_unavailable',
]);
/** The generic error statuses (docs/api.md, Errors): allowed where the document does not list them. */
const GENERIC_ERRORS = new Set([401, 403, 404, 405, 413, 415, 429, 503]);
/** A value the fuzzer plants in inputs; an error answer that contains it echoed the input. */
const MARKER = 'fz<script>q9</script>';
/** Properties a body must not set, each with a value a success answer must not carry. */
const INJECTED: Readonly<Record<string, unknown>> = {
  tenant_id: 'ten_fzinjected0000000000000000',
  id: 'fzinjected',
  org_id: 'fzinjected',
  status: 'won',
  role: 'owner',
  created_at: '2001-01-01T00:00:00.000Z',
  updated_at: '2001-01-01T00:00:00.000Z',
  email_hash: 'fzinjected',
  restricted: true,
  attempts: 4242,
  key_hash: 'fzinjected',
};
const SHOP = 'fuzz-shop.myshopify.com';
const STORE = 'https://fuzz-store.example.com';
const WEBHOOK_SECRET = 'fuzz-webhook-secret-0123456789';
const STRIPE_SECRET = 'whsec_fuzz_secret_0123456789';

const doc = buildOpenApiDocument(version) as unknown as Json;

/**
 * 400s a schema-valid input may get: rules JSON Schema cannot express (an opaque server-issued
 * cursor, a time window relative to now, facts about stored data), each stated in words in the
 * document — `statedIn` reads that text from the operation, and the test checks it is there.
 */
interface DocumentedRule {
  readonly field: RegExp;
  readonly message: RegExp;
  readonly phrase: RegExp;
  readonly statedIn: (op: Operation) => string;
}
const parameterText = (name: string) => (op: Operation) =>
  op.params
    .filter((p) => p.name === name)
    .map((p) => String(p.description ?? ''))
    .join(' ');
/** The operation's words: its description, its body's, and every description in its body schema. */
const operationText = (op: Operation) => {
  const seen = new Set<unknown>();
  const texts: string[] = [
    String(op.op.description ?? ''),
    String((op.op.requestBody as Json | undefined)?.description ?? ''),
  ];
  const walk = (node: unknown): void => {
    if (!node || typeof node !== 'object' || seen.has(node)) return;
    seen.add(node);
    const resolved = Array.isArray(node) ? node : resolveSchema(node as JsonSchema, doc);
    if (typeof resolved === 'object' && typeof (resolved as Json).description === 'string')
      texts.push((resolved as Json).description as string);
    for (const child of Object.values(resolved as Json)) walk(child);
  };
  walk(op.body);
  return texts.join('\n');
};
const DOCUMENTED_RULES: readonly DocumentedRule[] = [
  {
    field: /^cursor$/,
    message: /^Invalid cursor$/,
    phrase: /next_cursor/,
    statedIn: parameterText('cursor'),
  },
  {
    field: /(^|\.)email$/,
    message: /^Invalid email address$/,
    phrase: /at most 64 characters before the @/,
    statedIn: operationText,
  },
  { field: /(^|\.)phone$/, message: /^Invalid phone number/, phrase: /E\.164/, statedIn: operationText },
  { field: /^time_zone$/, message: /IANA time zone/, phrase: /IANA time zone/, statedIn: operationText },
  {
    field: /(^|\.)gclid$/,
    message: /^(At most|Exactly) one of gclid, gbraid and wbraid/,
    phrase: /(at most|exactly) one of gclid, gbraid and wbraid/,
    statedIn: operationText,
  },
  {
    field: /^conversion_time$/,
    message: /too old \(must be within 90 days\)/,
    phrase: /more than 90 days old/,
    statedIn: operationText,
  },
  {
    field: /^conversion_time$/,
    message: /too old \(must be within 7 days\)/,
    phrase: /more than 7 days old/,
    statedIn: operationText,
  },
  {
    field: /^conversion_time$/,
    message: /^The conversion time is in the future$/,
    phrase: /in the future/,
    statedIn: operationText,
  },
  {
    field: /^conversion_time$/,
    message: /^The conversion happened before the click$/,
    phrase: /before its click/,
    statedIn: operationText,
  },
  {
    field: /^lead_id$/,
    message: /^The lead has no click id/,
    phrase: /no click id of an ad platform/,
    statedIn: operationText,
  },
  {
    field: /^lead_id$/,
    message: /^(google_ads|meta): /,
    phrase: /the details say why for each connected platform/,
    statedIn: operationText,
  },
  {
    field: /^value$/,
    message: /^A retraction takes no value$/,
    phrase: /a retraction takes no value/,
    statedIn: operationText,
  },
  {
    field: /^value$/,
    message: /^A restatement needs the value/,
    phrase: /a restatement needs the value/,
    statedIn: operationText,
  },
];

interface Operation {
  readonly key: string;
  readonly method: string;
  readonly path: string;
  readonly op: Json;
  readonly route: RouteDefinition;
  readonly security: string;
  readonly params: Json[];
  readonly body?: JsonSchema;
  readonly validBody?: ValidateFunction;
}

const ajv = new Ajv2020({ strict: false, allErrors: true });
for (const [name, check] of Object.entries(FORMATS)) ajv.addFormat(name, check);
ajv.addSchema({ $id: 'doc', components: doc.components }, 'doc');
const rebase = (schema: JsonSchema) =>
  JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/')) as JsonSchema;

/**
 * The credential the operation's security asks for: the scheme of its first non-empty requirement
 * (GoHighLevel's `[{}, {goHighLevelSignature}]`: the URL token, the signature where configured).
 */
function securityOf(op: Json, route: RouteDefinition): string {
  const requirements = (op.security as Json[] | undefined) ?? [];
  const scheme = requirements.map((r) => Object.keys(r)[0]).find(Boolean) ?? 'none';
  return scheme === 'bearerJwt' && route.auth === 'platformAdmin' ? 'platformJwt' : scheme;
}

const OPERATIONS: Operation[] = Object.entries(doc.paths as Record<string, Record<string, Json>>).flatMap(
  ([path, ops]) =>
    Object.entries(ops).map(([method, op]) => {
      const route = ROUTES.find((r) => r.path === path && r.method === method.toUpperCase());
      if (!route) throw new Error(`the document describes ${method} ${path}, which the route table lacks`);
      const body = (op.requestBody as Json | undefined)?.content as Record<string, Json> | undefined;
      const schema = body?.['application/json']?.schema as JsonSchema | undefined;
      return {
        key: routeKey(method, path),
        method: method.toUpperCase(),
        path,
        op,
        route,
        security: securityOf(op, route),
        params: (op.parameters as Json[] | undefined) ?? [],
        ...(schema ? { body: schema, validBody: ajv.compile(rebase(schema)) } : {}),
      };
    }),
);

let stack: LocalStack;
let tenant: TestTenant;
let platform: string;
let apiKey: string;
let ghlToken = 'none';
let shop = { domain: SHOP, secret: WEBHOOK_SECRET };
let store = { url: STORE, secret: WEBHOOK_SECRET };

beforeAll(async () => {
  for (const name of ['RATE_LIMIT_IP_PER_HOUR', 'RATE_LIMIT_TENANT_PER_HOUR', 'RATE_LIMIT_SHOP_PER_HOUR'])
    process.env[name] = '1000000';
  process.env.STRIPE_WEBHOOK_SECRET = STRIPE_SECRET;
  // A generated PATCH may suspend the fuzzed tenant; it is reactivated at once (follow), and no
  // instance keeps the suspension cached past it.
  process.env.TENANT_STATUS_CACHE_SECONDS = '0';
  stack = await startTestStack('fuzz', { withoutConsumers: ['webhooks', 'conversions', 'backups'] });
  tenant = await createTenant(stack.url, 'Fuzzed Agency');
  platform = await tokenFor('platform', 'owner');
  const key = await request(stack.url, 'POST', `/api/v1/admin/tenants/${tenant.id}/api-keys`, {
    token: platform,
    body: { name: 'fuzz', role: 'admin' },
  });
  apiKey = key.body.key as string;
  const put = (path: string, body: Json) => request(stack.url, 'PUT', path, { token: tenant.admin, body });
  await put('/api/v1/integrations/shopify', { shop_domain: SHOP, webhook_secret: WEBHOOK_SECRET });
  await put('/api/v1/integrations/woocommerce', { store_url: STORE, webhook_secret: WEBHOOK_SECRET });
  const ghl = await put('/api/v1/integrations/ghl', {});
  ghlToken = new URL(ghl.body.webhook_url as string).pathname.split('/').pop() as string;
});

afterAll(async () => {
  delete process.env.TENANT_STATUS_CACHE_SECONDS;
  await stack.stop();
});

// ---- inputs ---------------------------------------------------------------------------------

const nasty = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 50 }),
  fc.string({ unit: 'binary', maxLength: 50 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    '\u202e',
    '\r\n',
    '\u001b[31m',
    '../../etc/passwd',
    '%00',
    "' OR 1=1 --",
    MARKER,
  ),
  fc.constant('x'.repeat(70_000)),
);

/** Path parameters and query values: short (a URL over the gateway's header limit is the gateway's). */
const short = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    'x',
    'lead_0',
    'ten_00000000000000000000000000',
    '\u0000',
    '..',
    '%00',
    '-1',
    '1e9',
    MARKER,
  ),
);

/**
 * A cursor a client might make up or alter: crafted key shapes and altered real cursors
 * (test/support/cursors.ts), a cursor the API issued for any listing, or one with a character
 * changed. Read when the case is generated, so it uses the tenant and the cursors of this run.
 */
const issuedCursors: string[] = [];
const cursorLike: fc.Arbitrary<string> = fc.oneof(
  fc.nat().map((i) => {
    const crafted = craftedCursors(tenant?.id ?? 'ten_fuzz', issuedCursors.slice(-5));
    return crafted[i % crafted.length] as string;
  }),
  fc.nat().map((i) => issuedCursors[i % Math.max(issuedCursors.length, 1)] ?? 'none'),
  fc.tuple(fc.nat(), fc.nat(), fc.constantFrom('A', '_', '-', '.', '=')).map(([i, at, ch]) => {
    const cursor = issuedCursors[i % Math.max(issuedCursors.length, 1)] ?? 'e30.e30';
    const pos = at % cursor.length;
    return `${cursor.slice(0, pos)}${ch}${cursor.slice(pos + 1)}`;
  }),
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
const rawBody = fc.oneof(
  jsonish.map((v) => JSON.stringify(v) ?? ''),
  nasty.map((s) => JSON.stringify({ email: s, value: s, consent: { status: s } })),
  fc.integer({ min: 50, max: 5000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`),
  fc.integer({ min: 50, max: 2000 }).map((depth) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`),
  fc.constant(`{"email":"a@b.co","email":"${MARKER}","consent":{"status":"granted"}}`),
  fc.constant('{"name":"a","name":{"x":1},"role":"owner","role":"viewer"}'),
  fc.constantFrom('{', '{"a":', '[1,]', '{"a":1}}', 'nul', '\ufeff{}', '{"a":"\\ud800"}'),
  nasty,
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
  fc.constant(''),
);

const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/jsonx',
  '',
);

/** A value of another JSON type than `value`, or one of the values every field gets tried with. */
const replacement = (value: unknown): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.constantFrom<unknown>(
      null,
      0,
      -1,
      1.5,
      1e308,
      true,
      [],
      {},
      [value],
      { value },
      JSON.stringify(value) ?? '',
    ),
    fc.constantFrom<unknown>('', ' ', '\u0000', 'a\u0000b', '\u202e\u0007', MARKER, 'x'.repeat(70_000)),
    nasty,
    fc.jsonValue({ maxDepth: 2 }),
  );

interface Mutation {
  /** Where in the body (path of keys) or which parameter. */
  readonly where: readonly (string | number)[];
  readonly kind: 'replace' | 'drop' | 'inject';
  readonly value?: unknown;
}

/** The paths of every value inside `value` (object keys, array indices), the root first. */
function pathsIn(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []) {
  out.push(prefix);
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) pathsIn(v, [...prefix, i], out);
  } else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) pathsIn(v, [...prefix, k], out);
  return out;
}

/** The objects inside `value` a property can be added to, the root first. */
const objectPaths = (value: unknown) =>
  pathsIn(value).filter((p) => {
    const at = p.reduce<unknown>((v, k) => (v as Json)?.[k as string], value);
    return at !== null && typeof at === 'object' && !Array.isArray(at);
  });

function applyMutation(value: unknown, m: Mutation): unknown {
  const copy = structuredClone(value);
  if (m.where.length === 0) {
    if (m.kind === 'replace') return m.value;
    if (m.kind === 'inject' && copy && typeof copy === 'object' && !Array.isArray(copy))
      Object.assign(copy, m.value as Json);
    return copy;
  }
  const parent = m.where.slice(0, -1).reduce<unknown>((v, k) => (v as Json)[k as string], copy) as Json;
  const last = m.where[m.where.length - 1] as string;
  if (m.kind === 'drop') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else if (m.kind === 'replace') parent[last] = m.value;
  else Object.assign(parent[last] as Json, m.value as Json);
  return copy;
}

function mutationOf(value: unknown): fc.Arbitrary<Mutation> {
  const paths = pathsIn(value);
  const objects = objectPaths(value);
  const injections = Object.entries(INJECTED).map(([k, v]) => ({ [k]: v }));
  const options: fc.Arbitrary<Mutation>[] = [
    fc.constantFrom(...paths).chain((where) =>
      replacement(where.reduce<unknown>((v, k) => (v as Json)?.[k as string], value)).map((v) => ({
        where,
        kind: 'replace' as const,
        value: v,
      })),
    ),
  ];
  if (paths.length > 1)
    options.push(fc.constantFrom(...paths.slice(1)).map((where) => ({ where, kind: 'drop' as const })));
  if (objects.length)
    options.push(
      fc
        .tuple(fc.constantFrom(...objects), fc.constantFrom(...injections))
        .map(([where, v]) => ({ where, kind: 'inject' as const, value: v })),
    );
  return fc.oneof(...options);
}

// ---- cases ----------------------------------------------------------------------------------

type Auth = 'none' | 'valid' | 'tenantViewer' | 'platform' | 'garbage';

interface Case {
  readonly kind: 'valid' | 'mutated' | 'nasty';
  readonly op: Operation;
  readonly method: string;
  readonly pathParams: Record<string, string>;
  readonly query: Record<string, string>;
  /** The JSON value of the body, when it has one (valid and mutated cases). */
  readonly value?: unknown;
  readonly body?: string;
  readonly contentType: string;
  readonly auth: Auth;
  /** Whether path and query parameters are as the document generated them. */
  readonly paramsValid: boolean;
  readonly mutation?: Mutation;
  /** Which id the API answered earlier to put in the path parameters, when there is one. */
  readonly known?: number;
  /** Headers sent instead of (or besides) the ones the credentials give: a webhook header fuzzed. */
  readonly headers?: Record<string, string>;
}

/** The webhook sender a signature scheme of the document belongs to. */
const SENDER_OF: Readonly<Record<string, WebhookSender>> = {
  shopifyHmac: 'shopify',
  wooCommerceSignature: 'woocommerce',
  goHighLevelSignature: 'ghl',
  stripeSignature: 'stripe',
};

/**
 * A value for a header a webhook sender sets: anything a client can put in a header (visible
 * ASCII, spaces, Latin-1), empty, or longer than any sender sends.
 */
const headerValue: fc.Arbitrary<string> = fc.oneof(
  fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    maxLength: 300,
  }),
  fc.string({ unit: fc.integer({ min: 0xa0, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 20 }),
  fc.integer({ min: 100, max: 6000 }).map((n) => 'x'.repeat(n)),
  fc.constantFrom(
    '',
    ' ',
    'orders/create',
    'order.created',
    'a/b/c',
    '2026-13-45T99:99:99Z',
    '../..',
    MARKER,
  ),
);

/** A webhook case with one of the headers its sender sets (as the ingest function reads them) fuzzed. */
function headerCase(op: Operation): fc.Arbitrary<Case> | undefined {
  const sender = SENDER_OF[op.security];
  if (!sender) return undefined;
  const names = [
    ...Object.keys(WEBHOOK_HEADER_RULES[sender]),
    ...(sender === 'shopify' ? ['x-shopify-api-version'] : []),
  ];
  return fc.tuple(validCase(op), fc.constantFrom(...names), headerValue).map(([c, name, value]) => ({
    ...c,
    kind: 'mutated' as const,
    headers: { [name]: value },
    paramsValid: false,
  }));
}

const asParam = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

function paramsOf(op: Operation, where: 'path' | 'query'): fc.Arbitrary<Record<string, string>> {
  const model: Record<string, fc.Arbitrary<string>> = {};
  const required: string[] = [];
  for (const p of op.params.filter((x) => x.in === where)) {
    const name = p.name as string;
    if (where === 'path' && op.security === 'goHighLevelSignature' && name === 'webhookToken')
      model[name] = fc.constant('ghl');
    else model[name] = arbitraryOf(p.schema as JsonSchema, { root: doc }).map(asParam);
    if (p.required) required.push(name);
  }
  return fc.record(model, { requiredKeys: required });
}

function validCase(op: Operation): fc.Arbitrary<Case> {
  return fc
    .record({
      pathParams: paramsOf(op, 'path'),
      query: paramsOf(op, 'query'),
      value: op.body ? arbitraryOf(op.body, { root: doc }) : fc.constant(undefined),
      known: fc.option(fc.nat(), { nil: undefined, freq: 2 }),
    })
    .map(({ pathParams, query, value, known }) => ({
      kind: 'valid' as const,
      op,
      method: op.method,
      pathParams,
      query,
      ...(value === undefined ? {} : { value, body: JSON.stringify(value) }),
      contentType: 'application/json',
      auth: 'valid' as const,
      paramsValid: true,
      ...(known === undefined ? {} : { known }),
    }));
}

function mutatedCase(op: Operation): fc.Arbitrary<Case> {
  return validCase(op).chain((c) => {
    const params = [
      ...Object.keys(c.pathParams).map((name) => ['path', name] as const),
      ...op.params.filter((p) => p.in === 'query').map((p) => ['query', p.name as string] as const),
    ];
    const options: fc.Arbitrary<Case>[] = [];
    if (c.value !== undefined)
      options.push(
        mutationOf(c.value).map((mutation) => {
          const value = applyMutation(c.value, mutation);
          return { ...c, kind: 'mutated' as const, value, body: JSON.stringify(value) ?? '', mutation };
        }),
      );
    if (params.length)
      options.push(
        fc.tuple(fc.constantFrom(...params), short).map(([[where, name], v]) => ({
          ...c,
          kind: 'mutated' as const,
          known: undefined,
          ...(where === 'path'
            ? { pathParams: { ...c.pathParams, [name]: v } }
            : { query: { ...c.query, [name]: v } }),
          paramsValid: false,
        })),
      );
    const headers = headerCase(op);
    if (headers) options.push(headers);
    options.push(
      fc.constantFrom(...Object.keys(INJECTED)).map((name) => ({
        ...c,
        kind: 'mutated' as const,
        query: { ...c.query, [name]: String(INJECTED[name]) },
        paramsValid: false,
      })),
    );
    return fc.oneof(...options);
  });
}

function nastyCase(op: Operation): fc.Arbitrary<Case> {
  return fc
    .record({
      method: fc.oneof({ weight: 3, arbitrary: fc.constant(op.method) }, fc.constantFrom(...METHODS)),
      param: short,
      query: fc.dictionary(
        fc.constantFrom('limit', 'cursor', 'status', 'subject_id', 'email', 'tenant_id', 'queue', 'state'),
        fc.oneof(short, cursorLike),
        { maxKeys: 3 },
      ),
      body: fc.option(rawBody, { nil: undefined }),
      contentType,
      auth: fc.constantFrom<Auth>('none', 'valid', 'tenantViewer', 'platform', 'garbage'),
    })
    .map(({ method, param, query, body, contentType, auth }) => ({
      kind: 'nasty' as const,
      op,
      method,
      pathParams: Object.fromEntries(
        op.params.filter((p) => p.in === 'path').map((p) => [p.name as string, param]),
      ),
      query,
      ...(body === undefined ? {} : { body }),
      contentType,
      auth,
      paramsValid: false,
    }));
}

const anyCase: fc.Arbitrary<Case> = fc
  .constantFrom(...OPERATIONS)
  .chain((op) =>
    fc.oneof(
      { weight: 2, arbitrary: validCase(op) },
      { weight: 3, arbitrary: mutatedCase(op) },
      { weight: 3, arbitrary: nastyCase(op) },
    ),
  );

// ---- requests -------------------------------------------------------------------------------

const hmac = (secret: string, body: string) =>
  createHmac('sha256', secret).update(body, 'utf8').digest('base64');

/** Authorization and signature headers for a case. */
function credentials(c: Case, body: string): Record<string, string> {
  if (c.auth === 'garbage')
    return { Authorization: `Bearer ${MARKER}`, 'X-Shopify-Hmac-Sha256': MARKER, 'Stripe-Signature': MARKER };
  if (c.auth === 'none') return {};
  if (c.auth === 'tenantViewer') return { Authorization: `Bearer ${tenant.viewer}` };
  if (c.auth === 'platform') return { Authorization: `Bearer ${platform}` };
  switch (c.op.security) {
    case 'bearerJwt':
      return { Authorization: `Bearer ${tenant.owner}` };
    case 'platformJwt':
      return { Authorization: `Bearer ${platform}` };
    case 'apiKey':
      return { Authorization: `ApiKey ${apiKey}` };
    case 'shopifyHmac':
      return {
        'X-Shopify-Topic': 'orders/create',
        'X-Shopify-Shop-Domain': shop.domain,
        'X-Shopify-Webhook-Id': `fuzz-${Math.random()}`,
        'X-Shopify-Hmac-Sha256': hmac(shop.secret, body),
      };
    case 'wooCommerceSignature':
      return {
        'X-WC-Webhook-Source': `${store.url}/`,
        'X-WC-Webhook-Topic': 'order.created',
        'X-WC-Webhook-Delivery-ID': `fuzz-${Math.random()}`,
        'X-WC-Webhook-Signature': hmac(store.secret, body),
      };
    case 'stripeSignature': {
      const t = Math.floor(Date.now() / 1000);
      return {
        'Stripe-Signature': `t=${t},v1=${createHmac('sha256', STRIPE_SECRET).update(`${t}.${body}`).digest('hex')}`,
      };
    }
    default:
      return {};
  }
}

function urlOf(c: Case): string {
  const path = c.op.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value =
      c.op.security === 'goHighLevelSignature' &&
      c.auth === 'valid' &&
      c.kind !== 'nasty' &&
      name === 'webhookToken'
        ? ghlToken
        : (c.pathParams[name] ?? '');
    return encodeURIComponent(wellFormed(value));
  });
  const query = new URLSearchParams(
    Object.entries(c.query).map(([k, v]): [string, string] => [k, wellFormed(v)]),
  ).toString();
  return `${path}${query ? `?${query}` : ''}`;
}

// ---- checks ---------------------------------------------------------------------------------

const bodyValid = (c: Case) =>
  c.op.validBody === undefined || (c.value !== undefined && c.op.validBody(c.value));
const authenticated = (c: Case) => c.op.security !== 'none';

/** Whether a 400 to a schema-valid input breaks only rules the document states in words. */
function documented(c: Case, parsed: Json): boolean {
  const details = (parsed.details ?? []) as { path?: string; message?: string }[];
  if (!details.length) return false;
  return details.every((d) =>
    DOCUMENTED_RULES.some(
      (r) =>
        r.field.test(String(d.path)) && r.message.test(String(d.message)) && r.phrase.test(r.statedIn(c.op)),
    ),
  );
}

/** Whether a success answer carries a property the body set but must not. */
function injectedEcho(c: Case, parsed: unknown): string | undefined {
  if (c.mutation?.kind !== 'inject') return undefined;
  const [name, value] = Object.entries(c.mutation.value as Json)[0] as [string, unknown];
  const seen = JSON.stringify(parsed, (key, v) => (key === name && v === value ? '\u0000hit' : v));
  return seen?.includes('\u0000hit') ? `${name}=${JSON.stringify(value)}` : undefined;
}

/** The operation of the document a case's method and URL reach (a nasty case may change the method). */
function operationAt(c: Case, url: string): Operation | undefined {
  const path = new URL(url, 'http://localhost').pathname;
  // As the gateway matches: the first route of the table (an empty parameter can reach another route).
  const route = ROUTES.find((r) => r.method === c.method && matchPath(r.path, path));
  return route && OPERATIONS.find((o) => o.key === routeKey(route.method, route.path));
}

/** What is wrong with an answer, or undefined when it keeps every rule. */
function violation(c: Case, url: string, status: number, headers: Headers, text: string): string | undefined {
  if (!headers.get('x-request-id')) return 'no X-Request-Id';
  const target = operationAt(c, url);
  const routed = target !== undefined;
  if (status < 400) {
    if (!routed) return `${c.method} on a path the document has no ${c.method} for answered ${status}`;
    const problems = contractProblems(c.method, url, status, headers, text);
    if (problems.length) return `an answer the document does not describe: ${problems.join('; ')}`;
    if (c.mutation?.kind === 'inject') {
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      const echoed = injectedEcho(c, parsed);
      if (echoed) return `mass assignment: the body set ${echoed} and the answer carries it`;
    }
    return undefined;
  }
  if (/\bat [\w.<>]+ \(|node_modules|\/functions\/|Error: /.test(text))
    return 'a stack trace or internals in the body';
  let parsed: Json;
  try {
    parsed = JSON.parse(text) as Json;
  } catch {
    return 'an error body that is not JSON';
  }
  // docs/operations.md, Health: an unhealthy service answers /health with 503 and the health document.
  if (c.op.path === '/health' && c.method === 'GET' && status === 503 && parsed.status === 'unhealthy')
    return undefined;
  if (
    typeof parsed.error !== 'string' ||
    typeof parsed.message !== 'string' ||
    typeof parsed.request_id !== 'string'
  )
    return 'an error outside the contract envelope';
  if (status >= 500 && !(status === 503 && DOCUMENTED_503.has(parsed.error)))
    return `a ${status} ${parsed.error}`;
  if (text.includes(MARKER) || text.includes('q9</script>')) return 'the input echoed back in an error';
  if (c.body && c.body.length > 20 && text.includes(c.body)) return 'the body echoed back in an error';
  if (routed) {
    const declared = Object.keys((target as Operation).op.responses as Json).includes(String(status));
    if (!declared && !GENERIC_ERRORS.has(status))
      return `status ${status}, which the document does not declare`;
    if (declared) {
      const problems = contractProblems(c.method, url, status, headers, text);
      if (problems.length) return `an answer the document does not describe: ${problems.join('; ')}`;
    }
  }
  if (
    status === 400 &&
    c.kind !== 'nasty' &&
    authenticated(c) &&
    c.paramsValid &&
    bodyValid(c) &&
    !documented(c, parsed)
  )
    return 'a schema-valid input refused with 400: the document and the handler disagree';
  return undefined;
}

/**
 * Ids the API answered, by the collection they belong to (the path segment before the id: leads,
 * conversions, subjects, tenants, api-keys, backups), so later requests reach real resources.
 */
const knownIds = new Map<string, string[]>();
const collectionOf = (path: string, param?: string) => {
  const segments = path.split('/');
  const at = param === undefined ? segments.length : segments.indexOf(`{${param}}`);
  return (
    segments
      .slice(0, at)
      .filter((seg) => seg && !seg.startsWith('{'))
      .pop() ?? ''
  );
};

function remember(c: Case, status: number, text: string): void {
  if (status < 200 || status >= 300 || !text.startsWith('{')) return;
  const answer = JSON.parse(text) as Json;
  if (typeof answer.next_cursor === 'string') {
    issuedCursors.push(answer.next_cursor);
    issuedCursors.splice(0, Math.max(0, issuedCursors.length - 50));
  }
  const list = (value: unknown) => (Array.isArray(value) ? (value as unknown[]) : []);
  const idOf = (item: unknown) => (item && typeof item === 'object' ? (item as Json).id : item);
  const ids = [
    answer.id,
    answer.subject_id,
    ...list(answer.lead_ids),
    ...list(answer.items).map(idOf),
    ...list(answer.conversions).map(idOf),
  ].filter((id): id is string => typeof id === 'string' && id.length > 0 && id.length < 200);
  const collection = collectionOf(c.op.path);
  const pool = knownIds.get(collection) ?? [];
  for (const id of ids) if (!pool.includes(id)) pool.push(id);
  knownIds.set(collection, pool.slice(-50));
}

/** The case with the path parameters it asked for taken from the ids answered so far. */
function withKnownIds(c: Case): Case {
  if (c.known === undefined) return c;
  const pathParams = { ...c.pathParams };
  for (const name of Object.keys(pathParams)) {
    const pool = knownIds.get(collectionOf(c.op.path, name));
    if (pool?.length) pathParams[name] = pool[(c.known + name.length) % pool.length] as string;
  }
  return { ...c, pathParams };
}

/**
 * Keeps the webhook credentials current when a request reconfigures an integration, and the
 * tenant active when a request suspended it.
 */
async function follow(c: Case, status: number, text: string): Promise<void> {
  if (status === 200 && c.method === 'PATCH' && c.op.path === '/api/v1/admin/tenants/{id}') {
    const answer = JSON.parse(text) as Json;
    if (answer.status === 'suspended')
      await request(stack.url, 'PATCH', `/api/v1/admin/tenants/${answer.id}`, {
        token: platform,
        body: { status: 'active' },
      });
    return;
  }
  if (status !== 200 || c.method !== 'PUT') return;
  const answer = JSON.parse(text) as Json;
  // The secret as the server read it: the last of duplicate keys, like JSON.parse.
  const sent = (c.body ? JSON.parse(c.body) : {}) as Json;
  if (c.op.path === '/api/v1/integrations/ghl') {
    ghlToken = new URL(answer.webhook_url as string).pathname.split('/').pop() as string;
  } else if (c.op.path === '/api/v1/integrations/shopify') {
    shop = { domain: String(answer.shop_domain), secret: String(sent.webhook_secret) };
  } else if (c.op.path === '/api/v1/integrations/woocommerce') {
    store = { url: String(answer.store_url), secret: String(sent.webhook_secret) };
  }
}

interface Tally {
  cases: number;
  kinds: Map<string, number>;
  statuses: Map<number, number>;
  perOperation: Map<string, Map<number, number>>;
}
const tally: Tally = { cases: 0, kinds: new Map(), statuses: new Map(), perOperation: new Map() };
const bump = <K>(map: Map<K, number>, key: K) => map.set(key, (map.get(key) ?? 0) + 1);

/** How fast-check prints a case: what was sent, not the whole operation. */
const described = (c: Case): Case =>
  Object.assign(c, {
    [fc.toStringMethod]: () =>
      `${c.kind} ${c.method} ${urlOf(c).slice(0, 200)} auth=${c.auth} type=${c.contentType} body=${(c.body ?? '').slice(0, 200)}`,
  });

async function send(generated: Case): Promise<{ status: number; text: string }> {
  const c = withKnownIds(generated);
  const body = c.body === undefined || c.method === 'GET' ? undefined : wellFormed(c.body);
  const headers: Record<string, string> = { ...credentials(c, body ?? '') };
  for (const [name, value] of Object.entries(c.headers ?? {})) {
    // One spelling per header: the fuzzed value replaces what the credentials set.
    for (const set of Object.keys(headers)) if (set.toLowerCase() === name) delete headers[set];
    headers[name] = value;
  }
  if (c.contentType) headers['Content-Type'] = c.contentType;
  const url = urlOf(c);
  const res = await fetch(`${stack.url}${url}`, { method: c.method, headers, body, redirect: 'manual' });
  const text = await res.text();
  tally.cases += 1;
  bump(tally.kinds, c.kind);
  bump(tally.statuses, res.status);
  const key = operationAt(c, url)?.key ?? `${c.method} ${c.op.path} (not in the document)`;
  if (!tally.perOperation.has(key)) tally.perOperation.set(key, new Map());
  bump(tally.perOperation.get(key) as Map<number, number>, res.status);
  const problem = violation(c, url, res.status, res.headers, text);
  if (problem && KEEP_GOING) {
    const first = `${problem.split(':')[0]} ${c.kind} ${c.method} ${c.op.path}`;
    if (!found.has(first))
      found.set(
        first,
        `${res.status} ${text.slice(0, 300)} body ${(c.body ?? '').slice(0, 3000)} mutation ${JSON.stringify(c.mutation ?? null).slice(0, 300)}`,
      );
  } else if (problem) {
    const input = c.body === undefined ? '' : ` body ${c.body.slice(0, 300)}`;
    const change = c.mutation ? ` mutation ${JSON.stringify(c.mutation).slice(0, 200)}` : '';
    throw new Error(
      `${problem}: ${c.kind} ${c.method} ${c.op.path} (${url.slice(0, 200)})${input}${change} answered ${res.status} ${text.slice(0, 400)}`,
    );
  }
  await follow(c, res.status, text);
  remember(c, res.status, text);
  return { status: res.status, text };
}

/** FUZZ_KEEP_GOING=1: record every distinct violation and report them all at the end. */
const KEEP_GOING = process.env.FUZZ_KEEP_GOING === '1';
const found = new Map<string, string>();
afterAll(() => {
  if (found.size)
    process.stdout.write(`fuzz violations:\n${[...found].map(([k, v]) => `- ${k}: ${v}`).join('\n')}\n`);
  expect([...found.keys()]).toEqual([]);
});

const seedOption = SEED === undefined ? {} : { seed: SEED };

describe('fuzzing from the OpenAPI document', () => {
  it('states in the document every rule a schema-valid input may be refused for', () => {
    const stated = (key: string, field: string) => {
      const op = OPERATIONS.find((o) => o.key === key) as Operation;
      const rules = DOCUMENTED_RULES.filter((r) => r.field.test(field));
      return rules.length > 0 && rules.every((r) => r.phrase.test(r.statedIn(op)));
    };
    for (const op of OPERATIONS.filter((o) => o.params.some((p) => p.name === 'cursor')))
      expect([op.key, stated(op.key, 'cursor')]).toEqual([op.key, true]);
    expect(stated('POST /api/v1/leads', 'email')).toBe(true);
    expect(stated('POST /api/v1/gdpr/subjects', 'email')).toBe(true);
    expect(stated('POST /api/v1/leads', '0.phone')).toBe(true);
    expect(stated('PATCH /api/v1/gdpr/subjects/{subject_id}', 'phone')).toBe(true);
    expect(stated('PUT /api/v1/integrations/google-ads', 'time_zone')).toBe(true);
    expect(stated('POST /api/v1/leads', 'gclid')).toBe(true);
    expect(stated('POST /api/v1/conversions', 'conversion_time')).toBe(true);
    expect(stated('POST /api/v1/conversions', 'lead_id')).toBe(true);
    expect(stated('POST /api/v1/conversions/{id}/adjustments', 'value')).toBe(true);
    // A rule the document does not state does not excuse a 400.
    expect(stated('POST /api/v1/admin/tenants', 'email')).toBe(false);
  });

  it('answers valid generated requests to every operation within the document', async () => {
    for (const op of OPERATIONS) {
      for (const c of fc.sample(validCase(op), { numRuns: 2, ...seedOption })) await send(c);
    }
    expect(tally.perOperation.size).toBeGreaterThanOrEqual(OPERATIONS.length);
  }, 120_000);

  it('answers made-up and altered cursors on every paginated operation with 400, never 500', async () => {
    const paginated = OPERATIONS.filter(
      (o) => o.method === 'GET' && o.params.some((p) => p.name === 'cursor'),
    );
    expect(paginated.map((o) => o.path)).toEqual(
      expect.arrayContaining([
        '/api/v1/leads',
        '/api/v1/conversions',
        '/api/v1/gdpr/audit',
        '/api/v1/admin/tenants',
        '/api/v1/admin/backups',
      ]),
    );
    for (const op of paginated) {
      for (const cursor of fc.sample(cursorLike, { numRuns: 20, ...seedOption })) {
        const c: Case = {
          kind: 'mutated',
          op,
          method: 'GET',
          pathParams: {},
          query: { limit: '1', cursor },
          contentType: 'application/json',
          auth: 'valid',
          paramsValid: false,
        };
        const { status, text } = await send(c);
        // A cursor the API issued for this very listing continues it; anything else is refused.
        if (status === 200) expect(issuedCursors).toContain(cursor);
        else {
          expect([op.key, cursor.slice(0, 80), status]).toEqual([op.key, cursor.slice(0, 80), 400]);
          expect(JSON.parse(text)).toMatchObject({
            details: [{ path: 'cursor', message: 'Invalid cursor' }],
          });
        }
      }
    }
  }, 120_000);

  it('answers fuzzed webhook headers within the contract: never a 5xx, a bound broken is 400', async () => {
    const webhooks = OPERATIONS.filter((o) => SENDER_OF[o.security]);
    expect(webhooks.map((o) => SENDER_OF[o.security]).sort()).toEqual([
      'ghl',
      'shopify',
      'stripe',
      'woocommerce',
    ]);
    for (const op of webhooks) {
      const cases = fc.sample(headerCase(op) as fc.Arbitrary<Case>, { numRuns: 25, ...seedOption });
      for (const c of cases) {
        const { status, text } = await send(c);
        expect([op.key, status]).toEqual([op.key, expect.any(Number)]);
        expect([200, 202, 400, 401]).toContain(status);
        const [name, value] = Object.entries(c.headers ?? {})[0] as [string, string];
        const rule = WEBHOOK_HEADER_RULES[SENDER_OF[op.security] as WebhookSender][name];
        if (rule && value.length > rule.max) {
          expect([op.key, name, status]).toEqual([op.key, name, 400]);
          expect(JSON.parse(text).details).toContainEqual({
            path: `headers.${name}`,
            message: expect.any(String),
          });
        }
      }
    }
  }, 120_000);

  it(`answers ${RUNS} generated requests, valid, mutated and nasty, within the contract`, async () => {
    const before = tally.cases;
    await fc.assert(
      fc.asyncProperty(anyCase.map(described), async (c) => {
        await send(c);
      }),
      { numRuns: RUNS, ...seedOption, endOnFailure: true },
    );
    expect(tally.cases - before).toBe(RUNS);
    const perOperation = [...tally.perOperation]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(
        ([key, statuses]) =>
          `  ${key}: ${[...statuses.values()].reduce((a, b) => a + b, 0)} ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`,
      );
    process.stdout.write(
      `fuzz: ${tally.cases} requests over ${OPERATIONS.length} operations of the OpenAPI document (${JSON.stringify(Object.fromEntries(tally.kinds))}); statuses ${JSON.stringify(Object.fromEntries([...tally.statuses].sort()))}\n${perOperation.join('\n')}\n`,
    );
  }, 900_000);
});
