/**
 * The one backoff of queued work: base × 2^step seconds, capped at 15 minutes (the longest delay
 * SQS gives a message), optionally jittered to between half of it and all of it, never shorter
 * than a delay the other side asked for (Retry-After), and never longer than `maxSeconds`.
 *
 * Each consumer keeps its own values through the parameters:
 * - webhook worker, failed delivery: step = receive count − 1, base WEBHOOK_RETRY_BASE_SECONDS
 *   (30 s), no jitter: 30, 60, 120, ... 900 s;
 * - conversion uploader, counted retry: step = receive count − 1, base
 *   CONVERSION_RETRY_BASE_SECONDS (60 s), jittered, at least the platform's `retryDelay`, at most
 *   12 hours (a visibility timeout's limit);
 * - a provider failure while its circuit stays closed (both consumers): step = provider retries
 *   so far, the consumer's base, jittered, at least the provider's `retryAfter`;
 * - a request status read: step = checks so far, base CONVERSION_STATUS_CHECK_SECONDS, no jitter.
 */
export const BACKOFF_CAP_SECONDS = 900;

export interface BackoffParameters {
  /** The delay of step 0, in seconds (negative counts as 0). */
  baseSeconds: number;
  /** 0 to 1 (Math.random in production): the delay becomes half of it plus this share of the other half. */
  random?: number;
  /** A delay the other side asked for: the answer is never shorter (up to `maxSeconds`). */
  atLeastSeconds?: number;
  /** The longest answer, `atLeastSeconds` included; 900 s unless given. */
  maxSeconds?: number;
}

export function backoffSeconds(step: number, parameters: BackoffParameters): number {
  const exponential = Math.min(
    BACKOFF_CAP_SECONDS,
    Math.max(0, parameters.baseSeconds) * 2 ** Math.max(0, step),
  );
  const delay =
    parameters.random === undefined
      ? exponential
      : Math.round(exponential / 2 + (exponential / 2) * Math.min(1, Math.max(0, parameters.random)));
  return Math.min(
    parameters.maxSeconds ?? BACKOFF_CAP_SECONDS,
    Math.max(parameters.atLeastSeconds ?? 0, delay),
  );
}
