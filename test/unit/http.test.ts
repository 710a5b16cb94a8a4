import {
  DependencyUnavailableError,
  DomainConflictError,
  DomainError,
  DomainNotFoundError,
  DomainValidationError,
  RateLimitRefusedError,
} from '../../functions/shared/platform/errors/domain';
import {
  errorBody,
  HttpError,
  notFound,
  validationFailed,
} from '../../functions/shared/platform/http/errors';
import {
  errorResult,
  httpHandler,
  json,
  lowerCaseHeaders,
  rawBody,
} from '../../functions/shared/platform/http/handler';
import { apiEvent, lambdaContext } from '../support/events';

describe('httpHandler', () => {
  it('refuses handlers that do not match the route table', () => {
    expect(() => httpHandler('health', {})).toThrow('health: route GET /health has no handler');
    expect(() =>
      httpHandler('health', {
        'GET /health': async () => json(200, {}),
        'POST /health': async () => json(200, {}),
      }),
    ).toThrow('handler for POST /health has no route in the route table');
  });

  it('passes the request as the handler needs it and sets X-Request-Id', async () => {
    let seen: unknown;
    const handler = httpHandler('health', {
      'GET /health': async (req) => {
        seen = {
          ip: req.sourceIp,
          id: req.requestId,
          body: req.rawBody.toString(),
          header: req.headers['x-shopify-topic'],
          q: req.query.limit,
        };
        return json(201, { ok: true }, { 'X-Extra': '1' });
      },
    });
    const result = await handler(
      apiEvent({
        headers: { 'X-Shopify-Topic': 'orders/create', 'X-Forwarded-For': '1.2.3.4' },
        query: { limit: '5' },
        body: '{"a":1}',
        requestId: 'r-42',
      }),
      lambdaContext(),
    );
    expect(result.statusCode).toBe(201);
    expect(result.headers).toMatchObject({ 'X-Request-Id': 'r-42', 'X-Extra': '1' });
    expect(JSON.parse(result.body)).toEqual({ ok: true });
    expect(seen).toEqual({ ip: '203.0.113.9', id: 'r-42', body: '{"a":1}', header: 'orders/create', q: '5' });
  });

  it('maps an HttpError to the contract error shape', async () => {
    const handler = httpHandler('health', {
      'GET /health': async () => {
        throw new HttpError(
          429,
          'rate_limit_exceeded',
          'Too many requests',
          { retry_after: 9 },
          { 'Retry-After': '9' },
        );
      },
    });
    const result = await handler(apiEvent({ requestId: 'r-1' }), lambdaContext());
    expect(result.statusCode).toBe(429);
    expect(result.headers).toMatchObject({ 'Retry-After': '9', 'X-Request-Id': 'r-1' });
    expect(JSON.parse(result.body)).toEqual({
      error: 'rate_limit_exceeded',
      message: 'Too many requests',
      request_id: 'r-1',
      retry_after: 9,
    });
  });

  it('hides unexpected errors behind a 500 internal_error', async () => {
    const handler = httpHandler('health', {
      'GET /health': async () => {
        throw new Error('connection string postgres://user:pw@host');
      },
    });
    const result = await handler(apiEvent(), lambdaContext());
    expect(result.statusCode).toBe(500);
    expect(result.body).not.toContain('postgres');
    expect(JSON.parse(result.body)).toEqual({
      error: 'internal_error',
      message: 'An internal error occurred',
      request_id: 'req-1',
    });
  });

  it('answers a JSON 404 for a resource it does not serve', async () => {
    const handler = httpHandler('health', { 'GET /health': async () => json(200, {}) });
    const result = await handler(apiEvent({ method: 'DELETE' }), lambdaContext());
    expect(result.statusCode).toBe(404);
    expect(JSON.parse(result.body).error).toBe('not_found');
  });
});

describe('http helpers', () => {
  it('decodes base64 and plain bodies byte for byte', () => {
    const bytes = Buffer.from([0xe2, 0x82, 0xac, 0x0a, 0x00, 0xff]);
    expect(rawBody(apiEvent({ body: bytes })).equals(bytes)).toBe(true);
    expect(rawBody(apiEvent({ body: 'plain', base64: false })).toString()).toBe('plain');
    expect(rawBody(apiEvent()).length).toBe(0);
  });

  it('lower-cases header names and drops undefined values', () => {
    expect(lowerCaseHeaders({ 'Content-Type': 'a', X: undefined })).toEqual({ 'content-type': 'a' });
    expect(lowerCaseHeaders(null)).toEqual({});
  });

  it('builds error bodies with extra fields', () => {
    expect(errorBody('x', 'y', 'r', { a: 1 })).toEqual({ error: 'x', message: 'y', request_id: 'r', a: 1 });
    const validation = validationFailed([{ path: 'email', message: 'Invalid email' }]);
    expect(validation.extra).toEqual({ details: [{ path: 'email', message: 'Invalid email' }] });
    const result = errorResult(notFound(), 'r-9');
    expect(result.statusCode).toBe(404);
    expect(JSON.parse(result.body)).toEqual({
      error: 'not_found',
      message: 'Resource not found',
      request_id: 'r-9',
    });
  });
});

describe('domain errors at the HTTP boundary', () => {
  it('maps each kind to its status and the contract shape', () => {
    const cases: Array<[Error, number, string]> = [
      [new DomainValidationError([{ path: 'email', message: 'bad' }]), 400, 'validation_failed'],
      [new DomainNotFoundError(), 404, 'not_found'],
      [new DomainConflictError('Already there'), 409, 'conflict'],
      [new DomainError('forbidden', 'forbidden', 'No'), 403, 'forbidden'],
      [
        new DomainError('unavailable', 'backup_encryption_required', 'No key'),
        503,
        'backup_encryption_required',
      ],
    ];
    for (const [error, status, code] of cases) {
      const result = errorResult(error, 'r-1');
      expect(result.statusCode).toBe(status);
      expect(JSON.parse(result.body)).toMatchObject({ error: code, request_id: 'r-1' });
    }
  });

  it('answers a rate-limit refusal with its status, Retry-After and the limit it reports', () => {
    const limit = { limit: 100, count: 101, reset: 1_800_000_000 };
    const refused = errorResult(
      new RateLimitRefusedError('rate_limited', 'rate_limit_exceeded', 'Rate limit exceeded.', limit, 30),
      'r-3',
    );
    expect(refused.statusCode).toBe(429);
    expect(refused.headers).toMatchObject({
      'Retry-After': '30',
      'X-RateLimit-Limit': '100',
      'X-RateLimit-Remaining': '0',
      'X-RateLimit-Reset': '1800000000',
    });
    expect(JSON.parse(refused.body)).toMatchObject({ error: 'rate_limit_exceeded', retry_after: 30 });
    const closed = errorResult(
      new RateLimitRefusedError('unavailable', 'rate_limit_config_error', 'Unavailable', limit, 60),
      'r-4',
    );
    expect(closed.statusCode).toBe(503);
    expect(closed.headers).toMatchObject({ 'Retry-After': '60', 'X-RateLimit-Limit': '100' });
  });

  it('answers an unavailable dependency with 503 and Retry-After', () => {
    const result = errorResult(new DependencyUnavailableError('stripe', 41.2), 'r-2');
    expect(result.statusCode).toBe(503);
    expect(result.headers?.['Retry-After']).toBe('42');
    expect(JSON.parse(result.body)).toEqual({
      error: 'dependency_unavailable',
      message: 'A service this request depends on is temporarily unavailable',
      request_id: 'r-2',
      retry_after: 42,
    });
  });
});
