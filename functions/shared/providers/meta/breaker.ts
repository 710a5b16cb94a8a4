import type { Outcome } from '../../platform/breaker/circuit';
import { breakerFor } from '../../platform/breaker/circuits';
import { type EventsAnswer, type EventsCall, type Fetch, postEvents } from './client';
import { MetaFailure } from './results';

/**
 * Meta's calls through the shared `meta` circuit breaker. Only failures that say Meta is unwell
 * count: transport errors and timeouts, 5xx and Meta's transient codes, and the application-wide
 * rate limit (code 4). A tenant's expired token, its ad account's or pixel's own throttling, a
 * refused event or our Graph API version say nothing about Meta and never open the circuit for
 * every tenant.
 */
const APPLICATION_RATE_LIMIT = 4;

export function metaOutcome(error: unknown): Outcome {
  if (!(error instanceof MetaFailure)) return 'neutral';
  if (error.kind === 'transient') return 'failure';
  if (error.kind === 'throttled' && error.code === APPLICATION_RATE_LIMIT) return 'failure';
  return 'success';
}

/** `postEvents` through the breaker: CircuitOpenError without a request while it is open. */
export function postEventsGuarded(call: EventsCall, fetchImpl: Fetch = fetch): Promise<EventsAnswer> {
  return breakerFor('meta').call(() => postEvents(call, fetchImpl), metaOutcome);
}
