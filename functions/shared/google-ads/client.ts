import { createHash } from 'node:crypto';
import type { UploadClickConversionsRequest } from './request';
import { requestErrorOf, type UploadResponseBody } from './results';

/**
 * The Google Ads REST adapter: OAuth access tokens from a refresh token (cached per credential)
 * and `customers/{id}:uploadClickConversions` with fetch. Secrets never leave this module in an
 * error message or a log line.
 */
export const DEFAULT_API_BASE_URL = 'https://googleads.googleapis.com';
/** v19 to v22 are switched off; v25 is a supported version. */
export const DEFAULT_API_VERSION = 'v25';
export const DEFAULT_TOKEN_URL = 'https://oauth2.googleapis.com/token';
const DEFAULT_TIMEOUT_MS = 30_000;
/** A cached access token is replaced this long before it expires. */
export const TOKEN_EARLY_REFRESH_MS = 5 * 60 * 1000;

/**
 * - `transient`: retry later (429, 5xx, timeouts, network).
 * - `configuration`: the tenant's account or settings are wrong (permission, conversion action,
 *   terms, OAuth client); its uploads stop until someone fixes them.
 * - `disconnected`: the refresh token was revoked (`invalid_grant`); never retried.
 * - `rejected`: Google refused the whole request for a reason no retry mends.
 */
export type FailureKind = 'transient' | 'configuration' | 'disconnected' | 'rejected';

export class GoogleAdsFailure extends Error {
  override readonly name = 'GoogleAdsFailure';
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly retryAfterSeconds?: number,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface OAuthCredential {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
}

export type Fetch = typeof fetch;

export const apiBaseUrl = () =>
  (process.env.GOOGLE_ADS_API_BASE_URL || DEFAULT_API_BASE_URL).replace(/\/+$/, '');
export const apiVersion = () => process.env.GOOGLE_ADS_API_VERSION || DEFAULT_API_VERSION;
export const tokenUrl = () => process.env.GOOGLE_OAUTH_TOKEN_URL || DEFAULT_TOKEN_URL;
const timeoutMs = () => Number(process.env.GOOGLE_ADS_TIMEOUT_MS) || DEFAULT_TIMEOUT_MS;

function transportFailure(error: unknown, what: string): GoogleAdsFailure {
  const name = typeof error === 'object' && error !== null && 'name' in error ? String(error.name) : '';
  const reason = name === 'TimeoutError' || name === 'AbortError' ? 'timed out' : 'could not be reached';
  return new GoogleAdsFailure('transient', `${what} ${reason}`);
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Access tokens per credential, kept until five minutes before they expire. */
export class TokenCache {
  private readonly tokens = new Map<string, { token: string; expiresAt: number }>();
  /** Refresh-token grants made, for metrics and the benchmark. */
  refreshes = 0;

  constructor(
    private readonly fetchImpl: Fetch = (...args) => fetch(...args),
    private readonly now: () => number = Date.now,
  ) {}

  private key(credential: OAuthCredential): string {
    return createHash('sha256')
      .update(`${tokenUrl()}\n${credential.clientId}\n${credential.refreshToken}`, 'utf8')
      .digest('hex');
  }

  forget(credential: OAuthCredential): void {
    this.tokens.delete(this.key(credential));
  }

  async accessToken(credential: OAuthCredential): Promise<string> {
    const key = this.key(credential);
    const cached = this.tokens.get(key);
    if (cached && this.now() < cached.expiresAt - TOKEN_EARLY_REFRESH_MS) return cached.token;
    let response: Response;
    try {
      response = await this.fetchImpl(tokenUrl(), {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: new URLSearchParams({
          client_id: credential.clientId,
          client_secret: credential.clientSecret,
          refresh_token: credential.refreshToken,
          grant_type: 'refresh_token',
        }).toString(),
        signal: AbortSignal.timeout(timeoutMs()),
      });
    } catch (error) {
      throw transportFailure(error, 'The Google token endpoint');
    }
    this.refreshes += 1;
    const body = (await readJson(response)) as
      | { access_token?: unknown; expires_in?: unknown; error?: unknown }
      | undefined;
    if (response.ok && typeof body?.access_token === 'string') {
      const seconds = typeof body.expires_in === 'number' ? body.expires_in : 3600;
      this.tokens.set(key, { token: body.access_token, expiresAt: this.now() + seconds * 1000 });
      return body.access_token;
    }
    this.tokens.delete(key);
    const error = typeof body?.error === 'string' ? body.error : undefined;
    if (error === 'invalid_grant')
      throw new GoogleAdsFailure(
        'disconnected',
        'Google refused the refresh token (invalid_grant): reconnect the account',
        undefined,
        response.status,
      );
    if (response.status === 429 || response.status >= 500)
      throw new GoogleAdsFailure(
        'transient',
        `The Google token endpoint answered ${response.status}`,
        undefined,
        response.status,
      );
    throw new GoogleAdsFailure(
      'configuration',
      `Google refused the OAuth client (${error ?? response.status}): check client id and secret`,
      undefined,
      response.status,
    );
  }
}

const CONFIGURATION_CATEGORIES = new Set([
  'authenticationError',
  'authorizationError',
  'conversionActionError',
]);
const CONFIGURATION_CODES = new Set([
  'INVALID_CONVERSION_ACTION',
  'CUSTOMER_NOT_ACCEPTED_CUSTOMER_DATA_TERMS',
  'CUSTOMER_NOT_ENABLED',
  'DEVELOPER_TOKEN_NOT_APPROVED',
  'DEVELOPER_TOKEN_PROHIBITED',
  'USER_PERMISSION_DENIED',
]);

export interface UploadCall {
  customerId: string;
  loginCustomerId?: string;
  accessToken: string;
  body: UploadClickConversionsRequest;
}

export interface UploadAnswer {
  body: UploadResponseBody;
  /** Google's `request-id` response header, for support cases. */
  requestId?: string;
}

export function uploadUrl(customerId: string): string {
  return `${apiBaseUrl()}/${apiVersion()}/customers/${customerId}:uploadClickConversions`;
}

export function uploadHeaders(
  call: Pick<UploadCall, 'accessToken' | 'loginCustomerId'>,
): Record<string, string> {
  const developerToken = process.env.GOOGLE_ADS_DEVELOPER_TOKEN;
  return {
    'Content-Type': 'application/json',
    Authorization: `Bearer ${call.accessToken}`,
    ...(call.loginCustomerId ? { 'login-customer-id': call.loginCustomerId } : {}),
    ...(developerToken ? { 'developer-token': developerToken } : {}),
  };
}

/** One `uploadClickConversions` call; request-level failures become GoogleAdsFailure. */
export async function uploadClickConversions(
  call: UploadCall,
  fetchImpl: Fetch = fetch,
): Promise<UploadAnswer> {
  let response: Response;
  try {
    response = await fetchImpl(uploadUrl(call.customerId), {
      method: 'POST',
      headers: uploadHeaders(call),
      body: JSON.stringify(call.body),
      signal: AbortSignal.timeout(timeoutMs()),
    });
  } catch (error) {
    throw transportFailure(error, 'Google Ads');
  }
  const requestId = response.headers.get('request-id') ?? undefined;
  let body: unknown;
  try {
    body = await readJson(response);
  } catch (error) {
    throw transportFailure(error, 'Google Ads');
  }
  if (response.ok) return { body: (body ?? {}) as UploadResponseBody, ...(requestId ? { requestId } : {}) };
  const detail = requestErrorOf(body);
  const what = `Google Ads answered ${response.status}${detail.codes.length ? ` (${detail.codes.join(', ')})` : ''}`;
  if (response.status === 429) {
    const header = Number(response.headers.get('retry-after'));
    const retry = detail.retryDelaySeconds ?? (Number.isFinite(header) && header > 0 ? header : undefined);
    throw new GoogleAdsFailure('transient', what, retry, 429);
  }
  if (response.status >= 500 || response.status === 401)
    throw new GoogleAdsFailure('transient', what, undefined, response.status);
  const configuration =
    response.status === 403 ||
    detail.categories.some((c) => CONFIGURATION_CATEGORIES.has(c)) ||
    detail.codes.some((c) => CONFIGURATION_CODES.has(c));
  throw new GoogleAdsFailure(
    configuration ? 'configuration' : 'rejected',
    detail.message ? `${what}: ${detail.message}` : what,
    undefined,
    response.status,
  );
}
