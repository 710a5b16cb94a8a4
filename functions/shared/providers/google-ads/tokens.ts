import { createHash } from 'node:crypto';
import { type FailureKind, ProviderFailure } from '../../features/conversions/ports-provider';
import { readJson, timedOut } from '../../platform/http/outbound';

/**
 * Google's OAuth access tokens from a tenant's refresh token, cached per credential, shared by
 * both upload transports (Data Manager API, Google Ads API). Secrets never leave this module in
 * an error message or a log line.
 */
export const DEFAULT_TOKEN_URL = 'https://oauth2.googleapis.com/token';
const DEFAULT_TIMEOUT_MS = 30_000;
/** A cached access token is replaced this long before it expires. */
export const TOKEN_EARLY_REFRESH_MS = 5 * 60 * 1000;

export type { FailureKind };

/** A failure of a Google call (token endpoint, Data Manager API, Google Ads API). */
export class GoogleAdsFailure extends ProviderFailure {
  override readonly name = 'GoogleAdsFailure';
}

export interface OAuthCredential {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
}

export type Fetch = typeof fetch;

export const tokenUrl = () => process.env.GOOGLE_OAUTH_TOKEN_URL || DEFAULT_TOKEN_URL;
export const timeoutMs = () => Number(process.env.GOOGLE_ADS_TIMEOUT_MS) || DEFAULT_TIMEOUT_MS;

export function transportFailure(error: unknown, what: string): GoogleAdsFailure {
  return new GoogleAdsFailure(
    'transient',
    `${what} ${timedOut(error) ? 'timed out' : 'could not be reached'}`,
  );
}

function lacking(entry: { token: string; scopes?: string[] }, requiredScope?: string): string {
  if (requiredScope && entry.scopes && !entry.scopes.includes(requiredScope))
    throw new GoogleAdsFailure(
      'needs_reconnect',
      `The Google account was connected without the ${requiredScope.split('/').pop()} permission: connect it again (GET /api/v1/integrations/google-ads/oauth/start)`,
    );
  return entry.token;
}

/** Access tokens per credential, kept until five minutes before they expire. */
export class TokenCache {
  private readonly tokens = new Map<string, { token: string; expiresAt: number; scopes?: string[] }>();
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

  /**
   * An access token for the credential. With `requiredScope`, a token Google granted without
   * that scope (its answer lists the scopes granted) is refused as `needs_reconnect`: the account
   * was connected before the scope was asked for, and only a new consent adds it.
   */
  async accessToken(credential: OAuthCredential, requiredScope?: string): Promise<string> {
    const key = this.key(credential);
    const cached = this.tokens.get(key);
    if (cached && this.now() < cached.expiresAt - TOKEN_EARLY_REFRESH_MS)
      return lacking(cached, requiredScope);
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
      | { access_token?: unknown; expires_in?: unknown; error?: unknown; scope?: unknown }
      | undefined;
    if (response.ok && typeof body?.access_token === 'string') {
      const seconds = typeof body.expires_in === 'number' ? body.expires_in : 3600;
      const entry = {
        token: body.access_token,
        expiresAt: this.now() + seconds * 1000,
        ...(typeof body.scope === 'string' ? { scopes: body.scope.split(/\s+/).filter(Boolean) } : {}),
      };
      this.tokens.set(key, entry);
      return lacking(entry, requiredScope);
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
