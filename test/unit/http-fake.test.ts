import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import {
  type FakeRequest,
  type HttpFake,
  json,
  matchRoute,
  recordedReply,
  redirect,
  route,
  serveFake,
  startHttpFake,
} from '../../local/fakes/http-fake';
import { BodyTooLarge, readBody } from '../../local/read-body';

const asRequest = (chunks: string[]) => Readable.from(chunks.map((c) => Buffer.from(c))) as IncomingMessage;
const ok = () => json(200, {});

describe('matchRoute', () => {
  const routes = [
    route('POST', '/token', ok),
    route('POST', /\/(v\d+)\/customers\/(\d+):upload/, ok),
    route('*', /\/any\/.*/, ok),
    route('GET', /\/any\/first/, ok),
  ];

  it('matches an exact path only for its method', () => {
    expect(matchRoute(routes, 'POST', '/token')).toEqual({ route: routes[0], params: [] });
    expect(matchRoute(routes, 'GET', '/token')).toBeUndefined();
    expect(matchRoute(routes, 'POST', '/token/')).toBeUndefined();
  });

  it('matches a pattern against the whole path and hands over its groups', () => {
    expect(matchRoute(routes, 'POST', '/v25/customers/123:upload')).toEqual({
      route: routes[1],
      params: ['v25', '123'],
    });
    expect(matchRoute(routes, 'POST', '/x/v25/customers/123:upload')).toBeUndefined();
    expect(matchRoute(routes, 'POST', '/v25/customers/123:uploadMore')).toBeUndefined();
  });

  it('takes any method for `*` and the first route that matches', () => {
    expect(matchRoute(routes, 'DELETE', '/any/thing')?.route).toBe(routes[2]);
    expect(matchRoute(routes, 'GET', '/any/first')?.route).toBe(routes[2]);
  });
});

describe('readBody', () => {
  it('reads every chunk once, up to and including the bound', async () => {
    await expect(readBody(asRequest(['ab', 'cd']), 4)).resolves.toEqual(Buffer.from('abcd'));
    await expect(readBody(asRequest([]), 4)).resolves.toEqual(Buffer.alloc(0));
  });

  it('refuses a body past the bound', async () => {
    const read = readBody(asRequest(['ab', 'cd', 'e']), 4);
    await expect(read).rejects.toBeInstanceOf(BodyTooLarge);
    await expect(read).rejects.toMatchObject({ limit: 4 });
  });
});

describe('startHttpFake', () => {
  let fake: HttpFake;
  const seen: FakeRequest[] = [];

  beforeAll(async () => {
    fake = await startHttpFake(
      [
        route('POST', /\/echo\/(\w+)/, (req) => {
          seen.push(req);
          return json(201, { name: req.params[0], body: req.jsonOrText() }, { 'X-Fake': 'yes' });
        }),
        route('POST', '/form', (req) => json(200, req.form())),
        route('POST', '/strict', (req) => json(200, req.json())),
        route('GET', '/away', (req) => redirect(`${req.baseUrl}/there`)),
        route('GET', '/slow', async () => {
          await new Promise((r) => setImmediate(r));
          return { status: 204 };
        }),
      ],
      {
        maxBodyBytes: 16,
        failed: (_req, error) => json(500, { failed: String(error) }),
      },
    );
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.log.length = 0;
    seen.length = 0;
  });

  it('listens on 127.0.0.1 and routes by method and path, the pattern groups to the handler', async () => {
    expect(fake.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${fake.baseUrl}/echo/abc?x=1`, { method: 'POST', body: '{"a":1}' });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('application/json; charset=UTF-8');
    expect(res.headers.get('x-fake')).toBe('yes');
    expect(await res.json()).toEqual({ name: 'abc', body: { a: 1 } });
    expect(seen[0]?.url.searchParams.get('x')).toBe('1');
    expect(seen[0]?.text).toBe('{"a":1}');
  });

  it('hands over a body that is not JSON as its text, and a form as its fields', async () => {
    const text = await fetch(`${fake.baseUrl}/echo/t`, { method: 'POST', body: 'not json' });
    expect(await text.json()).toEqual({ name: 't', body: 'not json' });
    const form = await fetch(`${fake.baseUrl}/form`, {
      method: 'POST',
      body: new URLSearchParams({ a: '1', b: 'two' }),
    });
    expect(await form.json()).toEqual({ a: '1', b: 'two' });
  });

  it('logs every request with its query, body and the status it got', async () => {
    await fetch(`${fake.baseUrl}/echo/one?q=2`, {
      method: 'POST',
      body: '{}',
      headers: { 'Content-Type': 'application/json' },
    });
    await fetch(`${fake.baseUrl}/slow`);
    await fetch(`${fake.baseUrl}/nowhere`);
    expect(fake.log).toEqual([
      expect.objectContaining({ method: 'POST', path: '/echo/one', query: '?q=2', body: '{}', status: 201 }),
      expect.objectContaining({ method: 'GET', path: '/slow', query: '', body: '', status: 204 }),
      expect.objectContaining({ method: 'GET', path: '/nowhere', status: 404 }),
    ]);
    expect(fake.log[0]?.headers['content-type']).toBe('application/json');
  });

  it('answers 404 where no route matches, the method included', async () => {
    const res = await fetch(`${fake.baseUrl}/form`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'not_found' });
  });

  it('answers with the failure reply when a handler throws', async () => {
    const res = await fetch(`${fake.baseUrl}/strict`, { method: 'POST', body: '{oops' });
    expect(res.status).toBe(500);
    expect(((await res.json()) as { failed: string }).failed).toMatch(/SyntaxError/);
    expect(fake.log[0]?.status).toBe(500);
  });

  it('refuses a body past its bound with 413 before any handler sees it', async () => {
    const res = await fetch(`${fake.baseUrl}/echo/big`, { method: 'POST', body: 'x'.repeat(17) });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: 'payload_too_large', limit: 16 });
    expect(seen).toHaveLength(0);
    expect(fake.log).toEqual([expect.objectContaining({ path: '/echo/big', body: '', status: 413 })]);
    const fits = await fetch(`${fake.baseUrl}/echo/fits`, { method: 'POST', body: 'x'.repeat(16) });
    expect(fits.status).toBe(201);
  });

  it('redirects without a body', async () => {
    const res = await fetch(`${fake.baseUrl}/away`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`${fake.baseUrl}/there`);
    expect(await res.text()).toBe('');
  });

  it('answers with its own 404 reply when given one, and stops listening on close', async () => {
    const other = await startHttpFake([], { notFound: (req) => json(400, { unknown: req.path }) });
    const res = await fetch(`${other.baseUrl}/x`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ unknown: '/x' });
    await other.close();
    await expect(fetch(`${other.baseUrl}/x`)).rejects.toThrow();
  });
});

describe('serveFake', () => {
  it('serves a surface: its records exposed, each stamped with its answer, reset by reset()', async () => {
    const records: { path: string; status: number }[] = [];
    let resets = 0;
    const surface = {
      routes: [
        route('POST', /\/thing\/\w+/, (req) => {
          const answer = recordedReply(records, { path: req.path, status: 0 }, json);
          expect(records.at(-1)).toEqual({ path: req.path, status: 0 });
          return answer(req.path.endsWith('/bad') ? 409 : 202, { seen: req.path });
        }),
      ],
      records,
      reset() {
        records.length = 0;
        resets += 1;
      },
    };
    const fake = await serveFake(surface);
    try {
      expect(fake).not.toHaveProperty('routes');
      expect(fake.records).toBe(records);
      const res = await fetch(`${fake.baseUrl}/thing/good`, { method: 'POST' });
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({ seen: '/thing/good' });
      expect((await fetch(`${fake.baseUrl}/thing/bad`, { method: 'POST' })).status).toBe(409);
      expect(records).toEqual([
        { path: '/thing/good', status: 202 },
        { path: '/thing/bad', status: 409 },
      ]);
      fake.reset();
      expect(records).toEqual([]);
      expect(resets).toBe(1);
    } finally {
      await fake.close();
    }
    await expect(fetch(`${fake.baseUrl}/thing/good`, { method: 'POST' })).rejects.toThrow();
  });
});
