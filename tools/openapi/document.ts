/**
 * Builds the OpenAPI 3.1 document from the route table and the operations registry. JSON Schemas
 * come from zod 4's own `toJSONSchema` (draft 2020-12, the dialect of OpenAPI 3.1): the request
 * schemas are the ones the handlers validate with (`io: 'input'`, so defaults are optional), the
 * response schemas those of `schemas.ts`.
 */
import * as z from 'zod/mini';
import { type AuthKind, ROUTES, type RouteDefinition, routeKey } from '../../contract/routes';
import { OPERATIONS, type OperationSpec, type ResponseSpec } from './operations';
import { errorResponse, NAMED_RESPONSES } from './schemas';

type Json = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: '3.1.1';
  info: Json;
  servers: Json[];
  tags: Json[];
  security: Json[];
  paths: Record<string, Record<string, Json>>;
  components: Json;
}

/** Every route of the table needs an operation; every operation a route. */
export function coverageProblems(
  routes: readonly RouteDefinition[] = ROUTES,
  operations: Readonly<Record<string, OperationSpec>> = OPERATIONS,
): string[] {
  const keys = new Set(routes.map((r) => routeKey(r.method, r.path)));
  const problems = [...keys]
    .filter((key) => !operations[key])
    .map((key) => `route ${key} has no schemas in tools/openapi/operations.ts`);
  for (const key of Object.keys(operations)) {
    if (!keys.has(key))
      problems.push(`tools/openapi/operations.ts describes ${key}, which is not in the route table`);
  }
  for (const route of routes) {
    const declared = Object.keys(operations[routeKey(route.method, route.path)]?.params ?? {});
    const inPath = [...route.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string);
    if (operations[routeKey(route.method, route.path)] && declared.sort().join() !== inPath.sort().join()) {
      problems.push(
        `${routeKey(route.method, route.path)} declares parameters [${declared}] for [${inPath}]`,
      );
    }
  }
  return problems;
}

export function toJsonSchema(schema: z.ZodMiniType, io: 'input' | 'output'): Json {
  const out = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Json;
  delete out.$schema;
  return out;
}

const ERROR_TEXT: Record<number, string> = {
  400: 'validation_failed, with `details: [{path, message}]`',
  401: 'invalid_token, invalid_api_key or invalid_signature',
  403: 'forbidden: the role is too low, or not the platform organisation',
  404: "not_found: no such resource in the caller's tenant",
  409: 'conflict: changed concurrently, or a state that does not allow it',
  413: 'payload_too_large',
  415: 'unsupported_media_type: the body must be JSON',
  429: 'rate_limit_exceeded, with `retry_after` (seconds) and `Retry-After`',
  500: 'internal_error: no stack and no internals',
  503: 'Temporarily unavailable: rate_limit_config_error, dependency_unavailable (circuit open, with `retry_after`), backup_encryption_required, or the queue could not take the delivery; retry later',
};

const SECURITY: Record<Exclude<AuthKind, 'signature'>, Json[]> = {
  none: [],
  jwt: [{ bearerJwt: [] }],
  platformAdmin: [{ bearerJwt: [] }],
  apiKey: [{ apiKey: [] }],
};

const WEBHOOK_SECURITY: Record<string, Json[]> = {
  '/api/v1/shopify/webhook': [{ shopifyHmac: [] }],
  '/api/v1/woocommerce/webhook': [{ wooCommerceSignature: [] }],
  '/api/v1/ghl/webhook/{webhookToken}': [{}, { goHighLevelSignature: [] }],
  '/api/v1/billing/webhooks/stripe': [{ stripeSignature: [] }],
};

function securityOf(route: RouteDefinition): Json[] {
  if (route.auth !== 'signature') return SECURITY[route.auth];
  const security = WEBHOOK_SECURITY[route.path];
  if (!security) throw new Error(`no signature scheme for webhook route ${route.path}`);
  return security;
}

/** The error statuses a route can answer, from its auth kind, its inputs and its own list. */
export function errorStatuses(route: RouteDefinition, op: OperationSpec): number[] {
  const statuses = new Set<number>([500, 503, ...(op.errors ?? [])]);
  if (route.path.startsWith('/api/v1/')) statuses.add(429);
  if (op.body || op.query || op.params || op.paginated) statuses.add(400);
  if (route.auth !== 'none') statuses.add(401);
  if (route.auth === 'jwt' || route.auth === 'platformAdmin') statuses.add(403);
  if (op.params && route.auth !== 'signature') statuses.add(404);
  if (op.body) {
    statuses.add(413);
    statuses.add(415);
  }
  for (const status of Object.keys(op.responses)) statuses.delete(Number(status));
  return [...statuses].sort((a, b) => a - b);
}

const capital = (w: string) => w.slice(0, 1).toUpperCase() + w.slice(1);

/** `GET /api/v1/gdpr/subjects/{subject_id}` → `getGdprSubjectsBySubjectId`. */
export function operationId(route: RouteDefinition): string {
  const words = route.path
    .replace(/^\/api\/v1/, '')
    .split('/')
    .filter(Boolean)
    .flatMap((seg) =>
      seg.startsWith('{')
        ? [`By${seg.slice(1, -1).split(/[_-]/).map(capital).join('')}`]
        : seg.split(/[.\-_]/),
    )
    .map(capital);
  return route.method.toLowerCase() + words.join('');
}

function tagOf(route: RouteDefinition): string {
  if (route.auth === 'signature') return 'Webhooks';
  const segment = route.path.split('/')[route.path.startsWith('/api/v1/') ? 3 : 1] ?? '';
  const tag = TAGS.find((t) => t.segment === segment);
  if (!tag) throw new Error(`no tag for ${route.path}`);
  return tag.name;
}

const TAGS = [
  { segment: 'health', name: 'Health', description: 'Liveness and readiness' },
  { segment: 'openapi.json', name: 'Reference', description: 'This document' },
  {
    segment: 'storefront.js',
    name: 'Storefront',
    description: 'The script a Shopify theme loads to carry ad clicks and consent into orders',
  },
  { segment: 'auth', name: 'Authentication', description: 'API keys exchanged for short-lived JWTs' },
  { segment: 'api-keys', name: 'API keys', description: "A tenant's API keys" },
  {
    segment: 'integrations',
    name: 'Integrations',
    description: "A tenant's connections; secrets are write-only",
  },
  { segment: 'leads', name: 'Leads', description: 'Leads with click ids and consent' },
  {
    segment: 'conversions',
    name: 'Conversions',
    description: 'Conversions and their uploads to the ad platforms',
  },
  {
    segment: 'gdpr',
    name: 'Data subjects',
    description: 'GDPR export, erasure, rectification, restriction, consent',
  },
  {
    segment: 'billing',
    name: 'Billing',
    description: "The tenant's subscription and Stripe's billing portal",
  },
  { segment: 'settings', name: 'Settings', description: "The tenant's own policies" },
  { segment: 'admin', name: 'Platform administration', description: 'Tenants, backups, dead letters' },
] as const;

const rateLimitHeaders = {
  'X-RateLimit-Limit': { $ref: '#/components/headers/X-RateLimit-Limit' },
  'X-RateLimit-Remaining': { $ref: '#/components/headers/X-RateLimit-Remaining' },
  'X-RateLimit-Reset': { $ref: '#/components/headers/X-RateLimit-Reset' },
};

function headersFor(route: RouteDefinition, status: number, extra: readonly string[] = []): Json {
  const headers: Json = { 'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' } };
  if (route.path.startsWith('/api/v1/')) Object.assign(headers, rateLimitHeaders);
  if (status === 429) headers['Retry-After'] = { $ref: '#/components/headers/Retry-After-Required' };
  else if (status === 503 || extra.includes('Retry-After'))
    headers['Retry-After'] = { $ref: '#/components/headers/Retry-After' };
  if (status === 401 && (route.auth === 'jwt' || route.auth === 'platformAdmin'))
    headers['WWW-Authenticate'] = { $ref: '#/components/headers/WWW-Authenticate' };
  if (extra.includes('Location')) headers.Location = { $ref: '#/components/headers/Location' };
  if (extra.includes('ETag')) headers.ETag = { $ref: '#/components/headers/ETag' };
  if (extra.includes('Cache-Control'))
    headers['Cache-Control'] = { $ref: '#/components/headers/Cache-Control' };
  return headers;
}

function successResponse(
  route: RouteDefinition,
  status: number,
  spec: ResponseSpec,
  names: SchemaNames,
): Json {
  const out: Json = { description: spec.description, headers: headersFor(route, status, spec.headers) };
  if (spec.schema) {
    const media: Json = { schema: names.response(spec.schema, `${pascal(operationId(route))}${status}`) };
    if (spec.example !== undefined) media.example = spec.example;
    out.content = { [spec.mediaType ?? 'application/json']: media };
  }
  return out;
}

/** One shared response per error status; its rate-limit headers are optional (not on /health). */
function errorResponses(): Json {
  const out: Json = {};
  const anyApiRoute = { path: '/api/v1/', auth: 'jwt' } as RouteDefinition;
  for (const [status, description] of Object.entries(ERROR_TEXT)) {
    out[`Error${status}`] = {
      description,
      headers: headersFor(anyApiRoute, Number(status)),
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  return out;
}

const pascal = (id: string) => id.slice(0, 1).toUpperCase() + id.slice(1);

/** Names the request and response schemas and converts them once, each in its own registry. */
class SchemaNames {
  private readonly requests = z.registry<{ id: string }>();
  private readonly responses = z.registry<{ id: string }>();

  constructor(named: Readonly<Record<string, z.ZodMiniType>>) {
    for (const [id, schema] of Object.entries(named)) this.responses.add(schema, { id });
  }

  request(schema: z.ZodMiniType, fallback: string): Json {
    return { $ref: SchemaNames.ref(this.requests, schema, fallback) };
  }

  response(schema: z.ZodMiniType, fallback: string): Json {
    return { $ref: SchemaNames.ref(this.responses, schema, fallback) };
  }

  private static ref(registry: z.core.$ZodRegistry<{ id: string }>, schema: z.ZodMiniType, fallback: string) {
    if (!registry.has(schema)) registry.add(schema, { id: fallback });
    return `#/components/schemas/${registry.get(schema)?.id ?? fallback}`;
  }

  /** Every named schema in JSON Schema, referring to each other by `#/components/schemas/<id>`. */
  components(): Json {
    const uri = (id: string) => `#/components/schemas/${id}`;
    const options = { uri, unrepresentable: 'any', target: 'draft-2020-12' } as const;
    const all = {
      ...(z.toJSONSchema(this.requests, { ...options, io: 'input' }).schemas as Record<string, Json>),
      // Responses as open objects (zod's input view: no additionalProperties on plain objects):
      // a new field is a backward-compatible change; a documented field missing or mistyped fails.
      ...(z.toJSONSchema(this.responses, { ...options, io: 'input' }).schemas as Record<string, Json>),
    };
    const out: Json = {};
    for (const id of Object.keys(all).sort()) {
      const { $schema: _schema, $id: _id, ...schema } = all[id] as Json;
      out[id] = schema;
    }
    return out;
  }
}

function parameters(op: OperationSpec): Json[] {
  const out: Json[] = [];
  for (const [name, spec] of Object.entries(op.params ?? {})) {
    out.push({
      name,
      in: 'path',
      required: true,
      description: spec.description,
      schema: spec.schema ? toJsonSchema(spec.schema, 'input') : { type: 'string' },
    });
  }
  const query = op.query ? toJsonSchema(op.query, 'input') : { properties: {}, required: [] };
  const required = new Set((query.required as string[] | undefined) ?? []);
  for (const [name, schema] of Object.entries((query.properties ?? {}) as Record<string, Json>)) {
    out.push({ name, in: 'query', required: required.has(name), schema });
  }
  if (op.paginated) {
    out.push(
      {
        name: 'limit',
        in: 'query',
        required: false,
        description: 'Page size, 1 to 100 (default 50)',
        schema: { type: 'integer', minimum: 1, maximum: 100 },
      },
      {
        name: 'cursor',
        in: 'query',
        required: false,
        description:
          'The `next_cursor` of the previous page, unchanged: it is signed and continues only the listing it came ' +
          'from (same tenant, route and filters); any other value is 400 validation_failed, `Invalid cursor`',
        schema: { type: 'string' },
      },
    );
  }
  return out;
}

function operation(route: RouteDefinition, op: OperationSpec, names: SchemaNames): Json {
  const responses: Json = {};
  for (const [status, spec] of Object.entries(op.responses)) {
    responses[status] = successResponse(route, Number(status), spec, names);
  }
  for (const status of errorStatuses(route, op)) {
    responses[String(status)] = { $ref: `#/components/responses/Error${status}` };
  }
  const roles =
    route.auth === 'jwt'
      ? ` Role: ${route.minRole ?? 'viewer'} or higher.`
      : route.auth === 'platformAdmin'
        ? ' Platform admin (admin or owner of the platform organisation).'
        : '';
  const out: Json = {
    operationId: operationId(route),
    summary: route.summary,
    description: `${op.description ?? route.summary}${roles}`.trim(),
    tags: [tagOf(route)],
    security: securityOf(route),
  };
  const params = parameters(op);
  if (params.length) out.parameters = params;
  if (op.body) {
    out.requestBody = {
      required: true,
      description: op.body.description,
      content: {
        'application/json': {
          schema: names.request(op.body.schema, `${pascal(operationId(route))}Body`),
          example: op.body.example,
        },
      },
    };
  }
  out.responses = responses;
  if (route.minRole) out['x-min-role'] = route.minRole;
  return out;
}

const header = (description: string, schema: Json, required = false): Json => ({
  description,
  required,
  schema,
});

/** The document. Throws when a route has no operation (or the other way round). */
export function buildOpenApiDocument(
  version: string,
  routes: readonly RouteDefinition[] = ROUTES,
  operations: Readonly<Record<string, OperationSpec>> = OPERATIONS,
): OpenApiDocument {
  const problems = coverageProblems(routes, operations);
  if (problems.length) throw new Error(`The OpenAPI document is incomplete:\n${problems.join('\n')}`);
  const names = new SchemaNames(NAMED_RESPONSES);
  const paths: Record<string, Record<string, Json>> = {};
  for (const route of routes) {
    const op = operations[routeKey(route.method, route.path)] as OperationSpec;
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, Json>)[route.method.toLowerCase()] = operation(route, op, names);
  }
  return {
    openapi: '3.1.1',
    info: {
      title: 'AdsEngineer API',
      version,
      description:
        'Conversion tracking: leads with click ids and consent, webhooks from shops and CRMs, conversions uploaded to Google Ads and Meta. All bodies are JSON with snake_case fields. Every response carries `X-Request-Id`; every `/api/v1` response the rate limiter saw carries `X-RateLimit-*` of the tightest limit applied. Errors are `{error, message, request_id}` plus the fields named per status. Personal data never goes in a URL: data-subject routes take an opaque subject id from POST /api/v1/gdpr/subjects.',
      license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
      contact: {
        name: 'AdsEngineer on-call',
        url: 'https://github.com/adsengineer/adsengineer/blob/main/docs/on-call.md',
      },
    },
    servers: [
      { url: 'http://127.0.0.1:3000', description: 'The local run mode (npm start)' },
      {
        url: 'https://{domain}',
        description: 'A deployed stage on its custom domain (deploy context domainName)',
        variables: { domain: { default: 'api.adsengineer.example', description: 'The stage domain' } },
      },
    ],
    tags: [
      ...TAGS.map(({ name, description }): Json => ({ name, description })),
      {
        name: 'Webhooks',
        description: 'Signed deliveries from Shopify, WooCommerce, GoHighLevel and Stripe',
      },
    ],
    security: [],
    paths,
    components: {
      schemas: { Error: toJsonSchema(errorResponse, 'output'), ...names.components() },
      responses: errorResponses(),
      headers: {
        'X-Request-Id': header('The request id, also in error bodies and logs', { type: 'string' }, true),
        'X-RateLimit-Limit': header('Requests allowed per hour by the tightest limit applied', {
          type: 'string',
          pattern: '^\\d+$',
        }),
        'X-RateLimit-Remaining': header('Requests left in the current hour', {
          type: 'string',
          pattern: '^\\d+$',
        }),
        'X-RateLimit-Reset': header('When the window resets (epoch seconds)', {
          type: 'string',
          pattern: '^\\d+$',
        }),
        'Retry-After': header('Seconds to wait before retrying', { type: 'string', pattern: '^\\d+$' }),
        'Retry-After-Required': header(
          'Seconds to wait before retrying',
          { type: 'string', pattern: '^\\d+$' },
          true,
        ),
        'WWW-Authenticate': header('`Bearer`, with the error where there is one', { type: 'string' }),
        Location: header('Where the created resource or the redirect points', { type: 'string' }, true),
        ETag: header('The version of a cacheable answer, for If-None-Match', { type: 'string' }, true),
        'Cache-Control': header('How long a public answer may be cached', { type: 'string' }, true),
      },
      securitySchemes: {
        bearerJwt: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'HS256 token from POST /api/v1/auth/token (iss adsengineer, aud adsengineer-api, exp required), or a Cognito access token when a user pool is configured',
        },
        apiKey: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description: 'The value is `ApiKey <key>`',
        },
        shopifyHmac: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Shopify-Hmac-Sha256',
          description:
            'Base64 HMAC-SHA256 of the raw body with the shop webhook secret; shop from X-Shopify-Shop-Domain',
        },
        wooCommerceSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'X-WC-Webhook-Signature',
          description:
            'Base64 HMAC-SHA256 of the raw body with the store webhook secret; store from X-WC-Webhook-Source',
        },
        goHighLevelSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'X-GHL-Signature',
          description:
            "Base64 Ed25519 signature of the raw body by HighLevel, verified with HighLevel's published key (GHL_WEBHOOK_PUBLIC_KEY); required whenever a key is configured. The retired X-WH-Signature is not accepted. The URL token identifies the tenant",
        },
        stripeSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'Stripe-Signature',
          description: '`t=<unix>,v1=<HMAC-SHA256 of "t.body">`, 300 s tolerance',
        },
      },
    },
  };
}
