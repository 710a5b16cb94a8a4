import type { ProviderFailure } from '../shared/features/conversions/ports-provider';
import type { CircuitOpenError } from '../shared/platform/breaker/breaker';
import { providerFailureOutcome } from '../shared/platform/breaker/provider';
import { backoffSeconds } from '../shared/platform/queues/backoff';
import {
  circuitWaitSeconds,
  MAX_PROVIDER_RETRIES,
  providerRetrySeconds,
} from '../shared/platform/queues/wait';
import type { Queued } from './messages';

/**
 * What becomes of one queue message. `wait`: the platform is unwell or its circuit is open; the
 * message is sent again with a delay (`providerRetries` travels with it) instead of spending a
 * receive.
 */
export type MessageResult =
  | { kind: 'done' }
  | { kind: 'retry'; delaySeconds: number; reason: string }
  | { kind: 'wait'; delaySeconds: number; providerRetries: number; reason: string }
  | { kind: 'deadLetter'; reason: string };

/** The result of each message, by message id. */
export type Results = Map<string, MessageResult>;

/** What a message's backoff and waits draw on. */
export interface RetryDeps {
  /** 0 to 1; Math.random in production. */
  random(): number;
  retryBaseSeconds: number;
}

/** How long a TOO_RECENT_* conversion waits before it is sent again. */
export const RESCHEDULE_SECONDS = 6 * 3600;
/** SQS refuses a visibility timeout over 12 hours. */
export const MAX_VISIBILITY_SECONDS = 12 * 3600;

/** Every message of a row (a redrive can queue one twice) ends the same way. */
export function settle(
  messages: ReadonlyArray<{ messageId: string }>,
  result: MessageResult,
  results: Results,
): void {
  for (const m of messages) results.set(m.messageId, result);
}

/**
 * Backoff of a transient failure: base × 2^(attempt-1), capped at 15 minutes, with jitter (half
 * to all of it), never shorter than the delay the platform asked for (429 `retryDelay`).
 */
export function retryDelaySeconds(
  receiveCount: number,
  base: number,
  random: number,
  retryAfter?: number,
): number {
  return backoffSeconds(receiveCount - 1, {
    baseSeconds: base,
    random,
    atLeastSeconds: retryAfter ?? 0,
    maxSeconds: MAX_VISIBILITY_SECONDS,
  });
}

/**
 * Messages that wait for an open circuit: sent again when it half-opens (plus jitter), their
 * provider retries unchanged, as long as the outage lasts.
 */
export function waitForCircuit(
  messages: ReadonlyArray<Queued<unknown>>,
  error: CircuitOpenError,
  reason: string,
  deps: Pick<RetryDeps, 'random'>,
  results: Results,
): void {
  const retryAfter = Number(error.extra.retry_after ?? 1);
  for (const m of messages) {
    results.set(m.messageId, {
      kind: 'wait',
      delaySeconds: circuitWaitSeconds(retryAfter, deps.random()),
      providerRetries: m.providerRetries ?? 0,
      reason,
    });
  }
}

/**
 * What becomes of messages after a transient failure. When the failure says the platform is unwell
 * (its circuit still closed), each message waits with backoff without spending a receive, a
 * bounded number of times; otherwise, or after those, the ordinary counted retry. True when every
 * message waits.
 */
export function afterTransientFailure(
  messages: ReadonlyArray<Queued<unknown>>,
  failure: ProviderFailure,
  deps: RetryDeps,
  results: Results,
): boolean {
  const unwell = providerFailureOutcome(failure) === 'failure';
  let waiting = 0;
  for (const m of messages) {
    const retries = m.providerRetries ?? 0;
    if (unwell && retries < MAX_PROVIDER_RETRIES) {
      waiting += 1;
      results.set(m.messageId, {
        kind: 'wait',
        delaySeconds: providerRetrySeconds(
          retries,
          deps.retryBaseSeconds,
          deps.random(),
          failure.retryAfterSeconds,
        ),
        providerRetries: retries + 1,
        reason: failure.message,
      });
    } else {
      results.set(m.messageId, {
        kind: 'retry',
        delaySeconds: retryDelaySeconds(
          m.receiveCount,
          deps.retryBaseSeconds,
          deps.random(),
          failure.retryAfterSeconds,
        ),
        reason: failure.message,
      });
    }
  }
  return waiting === messages.length;
}
