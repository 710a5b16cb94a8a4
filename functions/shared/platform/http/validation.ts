import type * as z from 'zod/mini';
import { unsupportedMediaType, type ValidationDetail, validationFailed } from './errors';
import type { HttpRequest } from './request';

/** Turns zod issues into the 400's `details: [{path, message}]` (the OpenAPI document's `Error`). */
export function issuesToDetails(issues: readonly z.core.$ZodIssue[]): ValidationDetail[] {
  return issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(body)',
    message: issue.message,
  }));
}

export function parseWith<T extends z.ZodMiniType>(schema: T, data: unknown): z.infer<T> {
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw validationFailed(issuesToDetails(parsed.error.issues));
  return parsed.data;
}

/**
 * Reads a JSON body: 415 unless the content type is JSON, 400 with details unless it parses and
 * matches the schema. An empty body counts as `{}` for schemas that allow it.
 */
export function parseJsonBody<T extends z.ZodMiniType>(request: HttpRequest, schema: T): z.infer<T> {
  const contentType = request.headers['content-type'] ?? '';
  const empty = request.rawBody.length === 0;
  if (!empty && !/^application\/json\s*(;|$)/i.test(contentType)) throw unsupportedMediaType();
  let data: unknown = {};
  if (!empty) {
    try {
      data = JSON.parse(request.rawBody.toString('utf8'));
    } catch {
      throw validationFailed([{ path: '(body)', message: 'Body is not valid JSON' }]);
    }
  }
  return parseWith(schema, data);
}
