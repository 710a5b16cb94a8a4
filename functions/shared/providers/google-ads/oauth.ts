import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoRepository } from '../../platform/dynamo/repository';
import { DomainValidationError } from '../../platform/errors/domain';
import { GoogleAdsFailure, tokenUrl } from './tokens';

/**
 * The OAuth connect flow: `oauth/start` sends the admin to Google's consent screen with a
 * `state` that is signed (HMAC with the token signing key), expires in 10 minutes, is stored
 * once in the system table bound to tenant and user, and is consumed by the first callback.
 * The state carries a random nonce, never the tenant id.
 */
export const GOOGLE_ADS_SCOPE = 'https://www.googleapis.com/auth/adwords';
/** The Data Manager API (events:ingest, requestStatus:retrieve); no developer token involved. */
export const DATA_MANAGER_SCOPE = 'https://www.googleapis.com/auth/datamanager';
/**
 * Both are asked for at once: Data Manager for uploads and restatements, the Google Ads API for
 * retractions (uploadConversionAdjustments) and for platforms on the Google Ads API transport.
 */
export const CONNECT_SCOPES = [DATA_MANAGER_SCOPE, GOOGLE_ADS_SCOPE] as const;
export const DEFAULT_AUTH_URL = 'https://accounts.google.com/o/oauth2/v2/auth';
export const STATE_TTL_SECONDS = 600;

export const authUrl = () => process.env.GOOGLE_OAUTH_AUTH_URL || DEFAULT_AUTH_URL;

const stateMac = (secret: Uint8Array, nonce: string) =>
  createHmac('sha256', secret).update(`google-ads-oauth-state\n${nonce}`, 'utf8').digest('base64url');

/** A fresh state: `<nonce>.<signature>`. */
export function newState(secret: Uint8Array): { state: string; nonce: string } {
  const nonce = randomBytes(32).toString('base64url');
  return { state: `${nonce}.${stateMac(secret, nonce)}`, nonce };
}

/** The nonce of a state signed with one of these secrets, else undefined. */
export function verifiedNonce(state: string, secrets: readonly Uint8Array[]): string | undefined {
  const match = /^([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})$/.exec(state);
  if (!match) return undefined;
  const nonce = match[1] as string;
  const given = Buffer.from(match[2] as string, 'base64url');
  for (const secret of secrets) {
    const expected = Buffer.from(stateMac(secret, nonce), 'base64url');
    if (expected.length === given.length && timingSafeEqual(expected, given)) return nonce;
  }
  return undefined;
}

/**
 * Why the connection was refused, from the `error` Google put on the redirect. Anyone can call the
 * callback with any `error`, so only an OAuth error code (RFC 6749 §4.1.2.1: `access_denied`,
 * `invalid_scope`…) is named; anything else is never repeated back.
 */
export function oauthRefusal(error: string): string {
  return /^[a-z_]{1,64}$/.test(error) ? `Google answered ${error}` : 'Google refused the authorization';
}

export function authorizationUrl(clientId: string, redirectUri: string, state: string): string {
  const url = new URL(authUrl());
  url.search = new URLSearchParams({
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: CONNECT_SCOPES.join(' '),
    access_type: 'offline',
    prompt: 'consent',
    include_granted_scopes: 'true',
    state,
  }).toString();
  return url.toString();
}

export interface PendingState {
  tenant_id: string;
  subject: string;
  redirect_uri: string;
  expires_at: number;
}

const key = (nonce: string) => ({
  pk: `OAUTH_STATE#${createHash('sha256').update(nonce, 'utf8').digest('hex')}`,
  sk: 'STATE',
});

/** Pending OAuth states in the system table, keyed by the nonce's hash; each is taken once. */
export class OAuthStateStore extends DynamoRepository {
  constructor(client?: DynamoDBDocumentClient) {
    super('system', client);
  }

  async save(nonce: string, pending: PendingState): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...key(nonce), ...pending },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  /** Deletes and returns the state: a second callback with it finds nothing. Expired ones are refused. */
  async take(nonce: string, nowSeconds: number): Promise<PendingState | undefined> {
    try {
      const out = await this.client.send(
        new DeleteCommand({
          TableName: this.table,
          Key: key(nonce),
          ConditionExpression: 'attribute_exists(pk)',
          ReturnValues: 'ALL_OLD',
        }),
      );
      const item = out.Attributes as (PendingState & Record<string, unknown>) | undefined;
      if (!item || typeof item.expires_at !== 'number' || item.expires_at <= nowSeconds) return undefined;
      return {
        tenant_id: item.tenant_id,
        subject: item.subject,
        redirect_uri: item.redirect_uri,
        expires_at: item.expires_at,
      };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }
}

/** The refresh token for an authorization code, and the scopes Google says it granted. */
export async function exchangeCode(
  code: string,
  client: { clientId: string; clientSecret: string },
  redirectUri: string,
  fetchImpl: typeof fetch = fetch,
): Promise<{ refreshToken: string; scopes?: string[] }> {
  let response: Response;
  try {
    response = await fetchImpl(tokenUrl(), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams({
        code,
        client_id: client.clientId,
        client_secret: client.clientSecret,
        redirect_uri: redirectUri,
        grant_type: 'authorization_code',
      }).toString(),
      signal: AbortSignal.timeout(10_000),
    });
  } catch {
    throw new GoogleAdsFailure('transient', 'The Google token endpoint could not be reached');
  }
  const body = (await response.json().catch(() => undefined)) as
    | { refresh_token?: unknown; error?: unknown; scope?: unknown }
    | undefined;
  if (response.ok && typeof body?.refresh_token === 'string' && body.refresh_token)
    return {
      refreshToken: body.refresh_token,
      ...(typeof body.scope === 'string' ? { scopes: body.scope.split(/\s+/).filter(Boolean) } : {}),
    };
  const message = response.ok
    ? 'Google gave no refresh token: connect again and grant offline access'
    : `Google refused the authorization code (${typeof body?.error === 'string' ? body.error : response.status})`;
  throw new DomainValidationError([{ path: 'code', message }]);
}
