import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { BodyTooLarge, readBody } from '../read-body';

/**
 * The small HTTP server every local fake of a provider is built on: it listens on 127.0.0.1 and a
 * free port, reads each body once (bounded), routes by method and path (exact, or a pattern whose
 * groups the handler receives), writes the reply the handler returns and logs every request with
 * the status it got. A fake is its routes: what a provider accepts and answers lives in them.
 */

/** Bodies larger than this are refused (413) unless a fake sets its own bound. */
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

export const JSON_CONTENT_TYPE = 'application/json; charset=UTF-8';

export interface FakeRequest {
  readonly method: string;
  /** The request's URL, resolved against the fake's base URL. */
  readonly url: URL;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The groups of a pattern route's match (empty for an exact path). */
  readonly params: readonly string[];
  readonly body: Buffer;
  /** The body as UTF-8 text. */
  readonly text: string;
  /** Where the fake listens, `http://127.0.0.1:<port>`. */
  readonly baseUrl: string;
  /** The body as JSON; throws when it is not JSON. */
  json(): unknown;
  /** The body as JSON, or its text when it is not JSON (recorded as sent, judged later). */
  jsonOrText(): unknown;
  /** The body as an `application/x-www-form-urlencoded` form. */
  form(): Record<string, string>;
}

export interface FakeReply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export type FakeHandler = (req: FakeRequest) => FakeReply | Promise<FakeReply>;

export interface FakeRoute {
  /** An HTTP method, or `*` for any. */
  method: string;
  /** An exact path, or a pattern tested against the whole path. */
  path: string | RegExp;
  handle: FakeHandler;
}

/** One request as the fake saw it: what tests read to check what was sent. */
export interface LoggedRequest {
  method: string;
  path: string;
  /** The query string as received, with its `?` (empty when there is none). */
  query: string;
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

export interface HttpFakeOptions {
  maxBodyBytes?: number;
  /** The answer when no route matches (default 404 `{"error":"not_found"}`). */
  notFound?: FakeHandler;
  /** The answer when a handler throws (default 500 `{"error":"fake_failed"}`). */
  failed?: (req: FakeRequest, error: unknown) => FakeReply;
}

export interface HttpFake {
  readonly baseUrl: string;
  /** Every request, in the order they arrived. */
  readonly log: LoggedRequest[];
  close(): Promise<void>;
}

/** One provider surface of a fake: its routes, and how it forgets what it recorded. */
export interface FakeSurface {
  readonly routes: readonly FakeRoute[];
  /** Forgets the requests it recorded (and resets the commands it owns). */
  reset(): void;
}

/** A surface served on its own fake server: what the surface exposes, where it listens, and close. */
export type ServedFake<S extends FakeSurface> = Omit<S, 'routes'> & {
  readonly baseUrl: string;
  close(): Promise<void>;
};

export const route = (method: string, path: string | RegExp, handle: FakeHandler): FakeRoute => ({
  method,
  path,
  handle,
});

/** A JSON answer; `headers` add to (or replace) the JSON content type. */
export const json = (status: number, body: unknown, headers: Record<string, string> = {}): FakeReply => ({
  status,
  headers: { 'Content-Type': JSON_CONTENT_TYPE, ...headers },
  body: JSON.stringify(body),
});

export const redirect = (location: string): FakeReply => ({ status: 302, headers: { Location: location } });

/**
 * Records a request as it arrives: `entry` (status 0) joins `records`, and the returned reply
 * function stamps the entry with the status it answers.
 */
export function recordedReply<R extends { status: number }>(
  records: R[],
  entry: R,
  reply: (status: number, payload: unknown) => FakeReply,
): (status: number, payload: unknown) => FakeReply {
  records.push(entry);
  return (status, payload) => {
    entry.status = status;
    return reply(status, payload);
  };
}

/** The route taking this request and the groups of its pattern, or undefined. */
export function matchRoute(
  routes: readonly FakeRoute[],
  method: string,
  path: string,
): { route: FakeRoute; params: string[] } | undefined {
  for (const candidate of routes) {
    if (candidate.method !== '*' && candidate.method !== method) continue;
    if (typeof candidate.path === 'string') {
      if (candidate.path === path) return { route: candidate, params: [] };
      continue;
    }
    const match = new RegExp(`^(?:${candidate.path.source})$`, candidate.path.flags).exec(path);
    if (match) return { route: candidate, params: match.slice(1) };
  }
  return undefined;
}

function fakeRequest(
  method: string,
  url: URL,
  headers: IncomingHttpHeaders,
  body: Buffer,
  params: string[],
  baseUrl: string,
): FakeRequest {
  const text = body.toString('utf8');
  return {
    method,
    url,
    path: url.pathname,
    headers,
    params,
    body,
    text,
    baseUrl,
    json: () => JSON.parse(text) as unknown,
    jsonOrText() {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return text;
      }
    },
    form: () => Object.fromEntries(new URLSearchParams(text)),
  };
}

export async function startHttpFake(
  routes: readonly FakeRoute[],
  options: HttpFakeOptions = {},
): Promise<HttpFake> {
  const log: LoggedRequest[] = [];
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const notFound: FakeHandler = options.notFound ?? (() => json(404, { error: 'not_found' }));
  const failed = options.failed ?? (() => json(500, { error: 'fake_failed' }));
  let baseUrl = '';

  const server: Server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', baseUrl);
    const entry: LoggedRequest = {
      method,
      path: url.pathname,
      query: url.search,
      headers: req.headers,
      body: '',
      status: 0,
    };
    log.push(entry);
    const write = (reply: FakeReply) => {
      entry.status = reply.status;
      res.writeHead(reply.status, reply.headers ?? {});
      res.end(reply.body);
    };
    void (async () => {
      let body: Buffer;
      try {
        body = await readBody(req, maxBodyBytes);
      } catch (error) {
        if (error instanceof BodyTooLarge)
          return write(json(413, { error: 'payload_too_large', limit: maxBodyBytes }));
        return write(json(400, { error: 'unreadable_body' }));
      }
      const matched = matchRoute(routes, method, url.pathname);
      const request = fakeRequest(method, url, req.headers, body, matched?.params ?? [], baseUrl);
      entry.body = request.text;
      let reply: FakeReply;
      try {
        reply = await (matched ? matched.route.handle(request) : notFound(request));
      } catch (error) {
        reply = failed(request, error);
      }
      write(reply);
    })().catch(() => res.destroy());
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
  baseUrl = `http://127.0.0.1:${port}`;
  return {
    baseUrl,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Serves a surface on a fake server of its own: the surface's records and commands, its base URL,
 * a reset that also forgets the server's log, and close.
 */
export async function serveFake<S extends FakeSurface>(
  surface: S,
  options: HttpFakeOptions = {},
): Promise<ServedFake<S>> {
  const { routes, ...exposed } = surface;
  const server = await startHttpFake(routes, options);
  return {
    ...exposed,
    baseUrl: server.baseUrl,
    reset() {
      server.log.length = 0;
      surface.reset();
    },
    close: server.close,
  };
}
