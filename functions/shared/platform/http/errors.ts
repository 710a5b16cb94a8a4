/**
 * Errors that map to the API's error shape (the OpenAPI document's `Error`):
 * `{"error": "<code>", "message": "<sentence>", "request_id": "<id>", ...extra}`.
 */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface ValidationDetail {
  path: string;
  message: string;
}

export const notFound = (message = 'Resource not found') => new HttpError(404, 'not_found', message);
export const forbidden = (message = 'You do not have permission for this action') =>
  new HttpError(403, 'forbidden', message);
export const validationFailed = (details: ValidationDetail[], message = 'Request validation failed') =>
  new HttpError(400, 'validation_failed', message, { details });
export const payloadTooLarge = (message = 'Request body is too large') =>
  new HttpError(413, 'payload_too_large', message);
export const unsupportedMediaType = (message = 'Content-Type must be application/json') =>
  new HttpError(415, 'unsupported_media_type', message);

export function errorBody(
  code: string,
  message: string,
  requestId: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { error: code, message, request_id: requestId, ...extra };
}
