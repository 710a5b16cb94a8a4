/**
 * Errors raised by domain modules (leads, conversions, GDPR, backups, providers). They know
 * nothing of HTTP: the HTTP layer (`http.ts`, `errorResult`) maps each kind to a status and the
 * API's error shape (the OpenAPI document's `Error`) in one place.
 */
export type DomainErrorKind =
  | 'validation'
  | 'not_found'
  | 'conflict'
  | 'forbidden'
  | 'rate_limited'
  | 'unavailable'
  | 'dependency_unavailable';

export interface DomainErrorDetail {
  path: string;
  message: string;
}

export class DomainError extends Error {
  override readonly name: string = 'DomainError';
  constructor(
    readonly kind: DomainErrorKind,
    /** The API's snake_case error code (`error` in the body). */
    readonly code: string,
    message: string,
    /** Extra fields of the error body (e.g. `details`, `retry_after`). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Input that breaks a domain rule; `details` locate each problem. */
export class DomainValidationError extends DomainError {
  override readonly name = 'DomainValidationError';
  constructor(
    readonly details: DomainErrorDetail[],
    message = 'Request validation failed',
  ) {
    super('validation', 'validation_failed', message, { details });
  }
}

export class DomainNotFoundError extends DomainError {
  override readonly name = 'DomainNotFoundError';
  constructor(message = 'Resource not found') {
    super('not_found', 'not_found', message);
  }
}

export class DomainConflictError extends DomainError {
  override readonly name = 'DomainConflictError';
  constructor(message: string, extra: Record<string, unknown> = {}) {
    super('conflict', 'conflict', message, extra);
  }
}

/**
 * An external API (Google Ads, Meta, Stripe) cannot be called now, e.g. its circuit is open.
 * Synchronous callers answer 503 `dependency_unavailable` with `Retry-After`.
 */
export class DependencyUnavailableError extends DomainError {
  override readonly name = 'DependencyUnavailableError';
  constructor(
    readonly dependency: string,
    readonly retryAfterSeconds: number,
    message = 'A service this request depends on is temporarily unavailable',
  ) {
    super('dependency_unavailable', 'dependency_unavailable', message, {
      retry_after: Math.max(1, Math.ceil(retryAfterSeconds)),
    });
  }
}

/** The limit state a rate-limit refusal reports (as `X-RateLimit-*` headers over HTTP). */
export interface RefusedLimit {
  readonly limit: number;
  readonly count: number;
  /** Epoch seconds the window ends. */
  readonly reset: number;
}

/**
 * A request refused by a rate limit (`rate_limited`), or because limits cannot be checked now
 * (`unavailable`, fail closed). Carries the limit it reports and when to try again.
 */
export class RateLimitRefusedError extends DomainError {
  override readonly name = 'RateLimitRefusedError';
  constructor(
    kind: 'rate_limited' | 'unavailable',
    code: string,
    message: string,
    readonly result: RefusedLimit,
    retryAfterSeconds: number,
  ) {
    super(kind, code, message, { retry_after: retryAfterSeconds });
  }
}

/** The status each kind answers with; the one place a domain error meets HTTP. */
export const DOMAIN_ERROR_STATUS: Readonly<Record<DomainErrorKind, number>> = {
  validation: 400,
  not_found: 404,
  conflict: 409,
  forbidden: 403,
  rate_limited: 429,
  unavailable: 503,
  dependency_unavailable: 503,
};
