import type { Outcome } from '../breaker/circuit';
import { GoogleAdsFailure } from './client';

/**
 * What a Google failure says about Google's health, for the shared `google_ads` circuit breaker:
 * timeouts and connection errors (no status), 5xx and 429 mean Google is unwell. A row error, a
 * refused request, one tenant's revoked refresh token, permissions or conversion action, and a
 * 401 for one tenant's access token say nothing about Google and never open the circuit.
 */
export function googleAdsOutcome(error: unknown): Outcome {
  if (!(error instanceof GoogleAdsFailure)) return 'neutral';
  if (error.kind !== 'transient') return 'success';
  if (error.status === undefined || error.status === 429 || error.status >= 500) return 'failure';
  return 'success';
}
