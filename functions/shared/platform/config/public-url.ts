import { COMMON_ENV_VARS } from '../../../../contract/resources';
import { ConfigurationError } from './resources';

/**
 * The public base URL of the API, for every URL it hands out (webhook URLs, the OAuth redirect
 * URI): `PUBLIC_BASE_URL`, set by the stack from the custom domain or the stage's execute-api URL,
 * and by the local run mode from the gateway's address. Never from a request's Host header, which
 * a proxy or a custom domain in front may pass through from the caller. Not configured, or not
 * an absolute http(s) URL without query or fragment: the function refuses to hand out URLs.
 */
export function publicBaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  const name = COMMON_ENV_VARS.publicBaseUrl;
  const raw = env[name];
  if (!raw) throw new ConfigurationError(`${name} is not set`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigurationError(`${name} is not a URL`);
  }
  if (
    (url.protocol !== 'https:' && url.protocol !== 'http:') ||
    url.search ||
    url.hash ||
    url.username ||
    url.password
  ) {
    throw new ConfigurationError(`${name} must be an http(s) URL without query, fragment or credentials`);
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}
