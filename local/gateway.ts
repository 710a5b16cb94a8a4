import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { matchPath, ROUTES, type RouteDefinition } from '../contract/routes';
import { SECURITY_HEADERS } from '../contract/security-headers';
import { invoke } from './lambda';
import { BodyTooLarge, readBody } from './read-body';

/** API Gateway's REST payload limit. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

/** One access log line; the route is its template, never the raw path or query (see infra/constructs/api.ts). */
export interface AccessLogEntry {
  requestId: string;
  ip: string;
  method: string;
  resourcePath: string;
  status: number;
  latencyMs: number;
}

/** What the access log records for a request no route matches. */
export const UNMATCHED_ROUTE = '(no route)';

export interface GatewayOptions {
  region: string;
  stage: string;
  accessLog?: (entry: AccessLogEntry) => void;
}

function gatewayError(res: ServerResponse, status: number, code: string, message: string, requestId: string) {
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    ...SECURITY_HEADERS,
    'X-Request-Id': requestId,
  });
  res.end(JSON.stringify({ error: code, message, request_id: requestId }));
}

function matchRoute(
  method: string,
  path: string,
): { route: RouteDefinition; params: Record<string, string> } | undefined {
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const params = matchPath(route.path, path);
    if (params) return { route, params };
  }
  return undefined;
}

function headerMaps(req: IncomingMessage) {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    const value = req.rawHeaders[i + 1] as string;
    headers[name] = value;
    const list = multiValueHeaders[name] ?? [];
    list.push(value);
    multiValueHeaders[name] = list;
  }
  return { headers, multiValueHeaders };
}

function queryMaps(url: URL) {
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [k, v] of url.searchParams) {
    single[k] = v;
    const list = multi[k] ?? [];
    list.push(v);
    multi[k] = list;
  }
  const has = Object.keys(single).length > 0;
  return { single: has ? single : null, multi: has ? multi : null };
}

/**
 * Builds the event API Gateway (REST, Lambda proxy) hands a function. Every body is passed
 * base64-encoded, as the deployed API does with binary media type `*\/*`, so webhook signatures
 * are checked on the exact bytes sent.
 */
export function toProxyEvent(
  req: IncomingMessage,
  url: URL,
  body: Buffer,
  route: RouteDefinition,
  params: Record<string, string>,
  requestId: string,
  options: GatewayOptions,
): APIGatewayProxyEvent {
  const { headers, multiValueHeaders } = headerMaps(req);
  const query = queryMaps(url);
  const sourceIp = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  const now = Date.now();
  return {
    resource: route.path,
    path: url.pathname,
    httpMethod: route.method,
    headers,
    multiValueHeaders,
    queryStringParameters: query.single,
    multiValueQueryStringParameters: query.multi,
    pathParameters: Object.keys(params).length ? params : null,
    stageVariables: null,
    body: body.length ? body.toString('base64') : null,
    isBase64Encoded: body.length > 0,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      protocol: `HTTP/${req.httpVersion}`,
      httpMethod: route.method,
      path: `/${options.stage}${url.pathname}`,
      stage: options.stage,
      requestId,
      requestTimeEpoch: now,
      resourceId: 'local',
      resourcePath: route.path,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp,
        user: null,
        userAgent: req.headers['user-agent'] ?? null,
        userArn: null,
      },
    },
  };
}

function isProxyResult(value: unknown): value is APIGatewayProxyResult {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { statusCode?: unknown }).statusCode === 'number'
  );
}

/** Serves the route table the way the deployed REST API does. */
export function createGateway(options: GatewayOptions): Server {
  return createServer(async (req, res) => {
    const started = performance.now();
    const requestId = randomUUID();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    const matched = matchRoute(method, url.pathname);
    res.on('finish', () =>
      options.accessLog?.({
        requestId,
        ip: (req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
        method,
        resourcePath: matched?.route.path ?? UNMATCHED_ROUTE,
        status: res.statusCode,
        latencyMs: Math.round(performance.now() - started),
      }),
    );
    if (!matched) {
      req.resume();
      gatewayError(res, 404, 'not_found', 'No route matches this request', requestId);
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(req, MAX_BODY_BYTES);
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        gatewayError(res, 413, 'payload_too_large', 'Request body is too large', requestId);
      } else {
        gatewayError(res, 400, 'bad_request', 'The request body could not be read', requestId);
      }
      return;
    }
    try {
      const event = toProxyEvent(req, url, body, matched.route, matched.params, requestId, options);
      const result = await invoke(matched.route.functionId, event, options.region);
      if (!isProxyResult(result)) throw new Error('handler returned no proxy result');
      const headers: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(result.headers ?? {})) headers[k] = String(v);
      for (const [k, v] of Object.entries(result.multiValueHeaders ?? {})) headers[k] = v.map(String);
      res.writeHead(result.statusCode, headers);
      res.end(result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
    } catch (error) {
      process.stderr.write(`local gateway: ${matched.route.functionId} failed: ${String(error)}\n`);
      gatewayError(res, 502, 'internal_error', 'An internal error occurred', requestId);
    }
  });
}
