import { ConfigurationError } from '../../platform/config/resources';
import { loadSecret } from '../../platform/config/secrets';

/**
 * Stripe settings. The secret key comes from `STRIPE_API_KEY` (local runs, tests) or the Secrets
 * Manager secret named by `STRIPE_API_KEY_ARN`; `STRIPE_API_BASE_URL` points the official client
 * at another host (the local fake). Calls time out after 5 s and are retried once by the client,
 * so the breaker sees an outage within seconds instead of after the client's default 80 s.
 */
export const DEFAULT_API_BASE_URL = 'https://api.stripe.com';
export const STRIPE_TIMEOUT_MS = 5_000;
/** Retries of the client itself (connection errors, 409, 5xx; with an idempotency key on POSTs). */
export const STRIPE_MAX_NETWORK_RETRIES = 1;

export interface StripeEndpoint {
  host: string;
  port: number;
  protocol: 'http' | 'https';
}

/** The host, port and protocol of `STRIPE_API_BASE_URL`. */
export function stripeEndpoint(
  base: string = process.env.STRIPE_API_BASE_URL || DEFAULT_API_BASE_URL,
): StripeEndpoint {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new ConfigurationError('STRIPE_API_BASE_URL is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new ConfigurationError('STRIPE_API_BASE_URL must be an http or https URL');
  const protocol = url.protocol === 'https:' ? 'https' : 'http';
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : protocol === 'https' ? 443 : 80,
    protocol,
  };
}

export function loadStripeKey(): Promise<string> {
  return loadSecret({ plainEnv: 'STRIPE_API_KEY', arnEnv: 'STRIPE_API_KEY_ARN' });
}
