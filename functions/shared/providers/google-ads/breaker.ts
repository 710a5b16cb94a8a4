import { providerFailureOutcome } from '../../platform/breaker/provider';

/**
 * What a Google failure says about Google's health, for the shared `google_ads` circuit breaker
 * (both transports, Data Manager API and Google Ads API): timeouts and connection errors (no
 * status), 5xx and 429 mean Google is unwell. A row error, a refused request, one tenant's revoked
 * refresh token, missing permission or conversion action, a token not allowlisted, and a 401 for
 * one tenant's access token say nothing about Google and never open the circuit.
 */
export const googleAdsOutcome = providerFailureOutcome;
