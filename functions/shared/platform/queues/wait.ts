import type { SQSRecord } from 'aws-lambda';
import { CircuitOpenError } from '../breaker/breaker';
import { BACKOFF_CAP_SECONDS, backoffSeconds } from './backoff';

/**
 * Queued work that waits for a provider, without spending the receives that lead to the
 * dead-letter queue. Every receive counts toward `maxReceiveCount` and changing a message's
 * visibility does not reset the count, so a consumer that hands a message back while a circuit is
 * open dead-letters it after three rounds. Instead the consumer sends the same body again with a
 * delay (SQS allows at most 900 s) and lets the original be deleted: the copy starts at receive
 * count 0. An outage of any length costs one send per message per wait, and nothing reaches the
 * dead-letter queue.
 *
 * Two kinds of wait:
 * - the provider's circuit is open (or the failure just opened it): wait until it half-opens,
 *   as long as the outage lasts;
 * - a provider failure while the circuit stays closed: back off, at most MAX_PROVIDER_RETRIES
 *   times (the count travels with the message); after that the message takes the ordinary
 *   counted retries, so a message only Stripe or Google chokes on still ends in the dead-letter
 *   queue.
 */
export const MAX_DELAY_SECONDS = BACKOFF_CAP_SECONDS;
export const PROVIDER_RETRIES_ATTRIBUTE = 'provider_retries';
export const MAX_PROVIDER_RETRIES = 8;

/**
 * Delay for a message waiting on an open circuit: until it half-opens, plus up to 20 % so the
 * waiting messages do not all return in the same second; 1 to 900 s.
 */
export function circuitWaitSeconds(retryAfterSeconds: number, random: number): number {
  const base = Math.max(1, retryAfterSeconds);
  const jittered = Math.ceil(base * (1 + 0.2 * Math.min(1, Math.max(0, random))));
  return Math.min(MAX_DELAY_SECONDS, jittered);
}

/** Backoff after a provider failure: base × 2^retries, half to all of it, never below `retryAfter`; ≤ 900 s. */
export function providerRetrySeconds(retries: number, base: number, random: number, retryAfter = 0): number {
  return backoffSeconds(retries, { baseSeconds: base, random, atLeastSeconds: retryAfter });
}

/** Provider retries this message has had (0 for a first delivery). */
export function providerRetriesOf(record: SQSRecord): number {
  const value = Number(record.messageAttributes?.[PROVIDER_RETRIES_ATTRIBUTE]?.stringValue ?? 0);
  return Number.isInteger(value) && value > 0 ? value : 0;
}

export interface WaitPlan {
  delaySeconds: number;
  /** `provider_retries` of the copy. */
  providerRetries: number;
  reason: 'circuit_open' | 'provider_failure';
}

/**
 * Whether a failed message should wait (and how long) instead of being handed back to SQS:
 * always while the provider's circuit is open, a bounded number of times after a provider
 * failure (`isProviderFailure`) while it stays closed; undefined for any other failure.
 */
export function waitPlan(
  error: unknown,
  record: SQSRecord,
  isProviderFailure: (error: unknown) => boolean,
  baseSeconds: number,
  random: number,
): WaitPlan | undefined {
  const retries = providerRetriesOf(record);
  if (error instanceof CircuitOpenError) {
    return {
      delaySeconds: circuitWaitSeconds(Number(error.extra.retry_after ?? 1), random),
      providerRetries: retries,
      reason: 'circuit_open',
    };
  }
  if (isProviderFailure(error) && retries < MAX_PROVIDER_RETRIES) {
    return {
      delaySeconds: providerRetrySeconds(retries, baseSeconds, random),
      providerRetries: retries + 1,
      reason: 'provider_failure',
    };
  }
  return undefined;
}
