import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROUTES, type RouteDefinition, routeKey } from '../../contract/routes';
import {
  buildOpenApiDocument,
  coverageProblems,
  errorStatuses,
  operationId,
} from '../../tools/openapi/document';
import { OPERATIONS } from '../../tools/openapi/operations';
import { OPENAPI_PATH, renderOpenApi } from '../../tools/openapi/render';
import { contractProblems } from '../support/contract';

// biome-ignore lint/suspicious/noExplicitAny: the test walks a JSON document
type Json = Record<string, any>;
const doc = buildOpenApiDocument('1.2.3') as unknown as Json;

describe('OpenAPI document', () => {
  it('describes every route of the route table, and nothing else', () => {
    expect(coverageProblems()).toEqual([]);
    for (const route of ROUTES) {
      const op = doc.paths[route.path]?.[route.method.toLowerCase()];
      expect({ route: routeKey(route.method, route.path), summary: op?.summary }).toEqual({
        route: routeKey(route.method, route.path),
        summary: route.summary,
      });
    }
    const described = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops as Json).map((m) => routeKey(m, path)),
    );
    expect(described.sort()).toEqual(ROUTES.map((r) => routeKey(r.method, r.path)).sort());
  });

  it('refuses to build when a route has no registered schemas, naming it', () => {
    const extra: RouteDefinition = {
      method: 'POST',
      path: '/api/v1/things/{id}',
      functionId: 'api',
      auth: 'jwt',
      minRole: 'member',
      summary: 'A route nobody described',
    };
    expect(coverageProblems([...ROUTES, extra])).toEqual([
      'route POST /api/v1/things/{id} has no schemas in tools/openapi/operations.ts',
    ]);
    expect(() => buildOpenApiDocument('1', [...ROUTES, extra])).toThrow(/POST \/api\/v1\/things\/\{id\}/);
    const { 'GET /health': _gone, ...rest } = OPERATIONS;
    expect(coverageProblems(ROUTES, { ...rest, 'GET /nowhere': { responses: {} } })).toEqual([
      'route GET /health has no schemas in tools/openapi/operations.ts',
      'tools/openapi/operations.ts describes GET /nowhere, which is not in the route table',
    ]);
  });

  it('names path parameters exactly as the route template does', () => {
    const route = ROUTES.find(
      (r) => r.path === '/api/v1/leads/{id}' && r.method === 'GET',
    ) as RouteDefinition;
    expect(coverageProblems([route], { 'GET /api/v1/leads/{id}': { responses: {} } })).toEqual([
      'GET /api/v1/leads/{id} declares parameters [] for [id]',
    ]);
  });

  it('gives every operation a readable, unique id', () => {
    const route = ROUTES.find(
      (r) => r.path === '/api/v1/gdpr/subjects/{subject_id}/consent',
    ) as RouteDefinition;
    expect(operationId(route)).toBe('postGdprSubjectsBySubjectIdConsent');
    const ids = ROUTES.map(operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('is the committed docs/openapi.json (run `npm run openapi` after changing a route or schema)', () => {
    const committed = readFileSync(join(__dirname, '..', '..', OPENAPI_PATH), 'utf8');
    expect(committed).toBe(renderOpenApi());
  });

  it('is OpenAPI 3.1 with the security schemes of every auth kind', () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual([
      'apiKey',
      'bearerJwt',
      'goHighLevelSignature',
      'shopifyHmac',
      'stripeSignature',
      'wooCommerceSignature',
    ]);
    expect(doc.paths['/api/v1/leads'].post.security).toEqual([{ bearerJwt: [] }]);
    expect(doc.paths['/api/v1/auth/token'].post.security).toEqual([{ apiKey: [] }]);
    expect(doc.paths['/api/v1/shopify/webhook'].post.security).toEqual([{ shopifyHmac: [] }]);
    expect(doc.paths['/health'].get.security).toEqual([]);
  });

  it('takes request bodies from the schemas the handlers validate with', () => {
    const body = doc.paths['/api/v1/integrations/shopify'].put.requestBody.content['application/json'];
    const schema = doc.components.schemas[body.schema.$ref.split('/').pop()];
    expect(schema.required.sort()).toEqual(['shop_domain', 'webhook_secret']);
    expect(schema.properties.webhook_secret.minLength).toBe(16);
    // Inputs with defaults are optional for the caller.
    const key = doc.paths['/api/v1/api-keys'].post.requestBody.content['application/json'];
    expect(doc.components.schemas[key.schema.$ref.split('/').pop()].required).toBeUndefined();
  });

  it('documents errors by auth kind and inputs, with the rate-limit and Retry-After headers', () => {
    const leadsPost = doc.paths['/api/v1/leads'].post.responses;
    for (const status of ['400', '401', '403', '413', '415', '429', '500', '503']) {
      expect(leadsPost[status]).toEqual({ $ref: `#/components/responses/Error${status}` });
    }
    expect(doc.paths['/health'].get.responses['429']).toBeUndefined();
    const tooMany = doc.components.responses.Error429.headers;
    expect(tooMany['Retry-After']).toEqual({ $ref: '#/components/headers/Retry-After-Required' });
    expect(tooMany['X-RateLimit-Reset']).toEqual({ $ref: '#/components/headers/X-RateLimit-Reset' });
    expect(doc.components.headers['X-Request-Id'].required).toBe(true);
    const webhook = ROUTES.find((r) => r.path === '/api/v1/ghl/webhook/{webhookToken}') as RouteDefinition;
    expect(errorStatuses(webhook, OPERATIONS[routeKey(webhook.method, webhook.path)] as never)).not.toContain(
      404,
    );
  });
});

describe('contract check of responses', () => {
  const headers = (h: Record<string, string>) => new Headers({ 'X-Request-Id': 'r1', ...h });

  it('accepts a response the document describes', () => {
    const body = JSON.stringify({ access_token: 'a.b.c', token_type: 'Bearer', expires_in: 900 });
    expect(contractProblems('POST', '/api/v1/auth/token', 200, headers({}), body)).toEqual([]);
  });

  it('refuses an undescribed status, a missing required header, and a body off the schema', () => {
    expect(contractProblems('GET', '/api/v1/leads?limit=1', 418, headers({}), '{}')).toEqual([
      'GET /api/v1/leads → 418: the OpenAPI document describes no 418 for this operation',
    ]);
    const limited = JSON.stringify({ error: 'rate_limit_exceeded', message: 'Slow down', request_id: 'r1' });
    expect(contractProblems('GET', '/api/v1/leads', 429, headers({}), limited)).toEqual([
      'GET /api/v1/leads → 429: required header Retry-After is missing',
    ]);
    const wrong = JSON.stringify({ access_token: 'a', token_type: 'Basic', expires_in: -1 });
    expect(contractProblems('POST', '/api/v1/auth/token', 200, headers({}), wrong)[0]).toMatch(
      /body does not match the document: \/token_type must be equal to constant; \/expires_in must be >= 0/,
    );
    expect(
      contractProblems(
        'GET',
        '/api/v1/leads/l1',
        200,
        headers({ 'X-RateLimit-Remaining': 'many' }),
        '{}',
      ).join('\n'),
    ).toMatch(/header X-RateLimit-Remaining=many[\s\S]*must have required property 'id'/);
    expect(contractProblems('DELETE', '/api/v1/api-keys/k1', 204, headers({}), 'x')).toEqual([
      'DELETE /api/v1/api-keys/{id} → 204: the document describes no body, got x',
    ]);
  });

  it('checks a body that is not JSON by its documented media type (the storefront script)', () => {
    const script = headers({
      'Content-Type': 'text/javascript; charset=utf-8',
      ETag: '"v1"',
      'Cache-Control': 'public',
    });
    expect(contractProblems('GET', '/api/v1/storefront.js', 200, script, '(() => {})();')).toEqual([]);
    expect(contractProblems('GET', '/api/v1/storefront.js', 304, script, '')).toEqual([]);
    const asJson = headers({ 'Content-Type': 'application/json', ETag: '"v1"', 'Cache-Control': 'public' });
    expect(contractProblems('GET', '/api/v1/storefront.js', 200, asJson, '{}')).toEqual([
      'GET /api/v1/storefront.js → 200: Content-Type application/json is not the documented text/javascript',
    ]);
  });

  it('leaves paths outside the route table to the gateway', () => {
    expect(contractProblems('GET', '/nowhere', 404, new Headers(), '{}')).toEqual([]);
  });
});
