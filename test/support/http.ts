import { assertDescribed } from './contract';

export interface JsonResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

/**
 * A small JSON client for tests that talk to the local stack over HTTP. Every response is checked
 * against the OpenAPI document (test/support/contract.ts): one it does not describe fails the test.
 */
export async function request<T = Record<string, unknown>>(
  base: string,
  method: string,
  path: string,
  options: { token?: string; authorization?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  if (options.authorization) headers.Authorization = options.authorization;
  if (options.body !== undefined) headers['Content-Type'] ??= 'application/json';
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  assertDescribed(method, path, res.status, res.headers, text);
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : {}) as T };
}

/** Sends a raw body (e.g. a signed webhook) with the given headers; the response is checked like `request`. */
export async function send(
  base: string,
  method: string,
  path: string,
  body: string,
  headers: Record<string, string>,
): Promise<JsonResponse> {
  const res = await fetch(`${base}${path}`, { method, headers, body });
  const text = await res.text();
  assertDescribed(method, path, res.status, res.headers, text);
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : {} };
}

/** The fields a `validation_failed` answer names in its details, in alphabetical order. */
export const invalidFields = (res: JsonResponse): string[] =>
  (res.body.details as Array<{ path: string }>).map((detail) => detail.path).sort();
