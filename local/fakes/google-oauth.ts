import { randomUUID } from 'node:crypto';
import { googleJson } from './google-common';
import { type FakeRequest, type FakeSurface, redirect, route } from './http-fake';

/**
 * Google's OAuth endpoints as the local Google fake serves them: a consent screen at `GET /auth`
 * that consents at once (back to `redirect_uri` with a code and the `state`), and the token
 * endpoint `POST /token` (form-encoded `authorization_code` and `refresh_token` grants, answered
 * with Google's token response or its `invalid_request` / `invalid_grant` errors). It remembers
 * every access token it issued with its scopes, which the APIs check.
 */

export const DATA_MANAGER_SCOPE = 'https://www.googleapis.com/auth/datamanager';
export const ADWORDS_SCOPE = 'https://www.googleapis.com/auth/adwords';
const BOTH_SCOPES = [DATA_MANAGER_SCOPE, ADWORDS_SCOPE];

export interface RecordedTokenRequest {
  form: Record<string, string>;
  status: number;
}

export interface OAuthCommands {
  /** Refresh tokens answered with 400 invalid_grant. */
  revokedRefreshTokens: Set<string>;
  /** Refresh tokens whose access tokens lack the Data Manager scope (connected before it was asked). */
  adwordsOnlyRefreshTokens: Set<string>;
}

export interface GoogleOAuth extends FakeSurface {
  readonly tokenRequests: RecordedTokenRequest[];
  /** The scopes of the request's bearer token, when it is one this fake issued. */
  scopesOf(req: FakeRequest): string[] | undefined;
}

export function googleOAuth(commands: OAuthCommands): GoogleOAuth {
  const tokenRequests: RecordedTokenRequest[] = [];
  /** Access tokens issued, with the scopes granted. */
  const issued = new Map<string, string[]>();
  /** Scopes the consent screen granted, by authorization code. */
  const codeScopes = new Map<string, string[]>();

  /** The consent screen, consented at once: back to the app with a code the token endpoint takes. */
  function consent(req: FakeRequest) {
    const redirectUri = req.url.searchParams.get('redirect_uri');
    const state = req.url.searchParams.get('state');
    if (!redirectUri || !state) return googleJson(400, { error: 'invalid_request' });
    const back = new URL(redirectUri);
    const code = `good-${randomUUID()}`;
    codeScopes.set(code, (req.url.searchParams.get('scope') ?? '').split(/\s+/).filter(Boolean));
    back.searchParams.set('code', code);
    back.searchParams.set('state', state);
    return redirect(back.toString());
  }

  function token(req: FakeRequest) {
    const form = req.form();
    const answer = (status: number, body: unknown) => {
      tokenRequests.push({ form, status });
      return googleJson(status, body);
    };
    if (!/^application\/x-www-form-urlencoded/.test(req.headers['content-type'] ?? ''))
      return answer(400, { error: 'invalid_request', error_description: 'form body required' });
    if (form.grant_type === 'authorization_code') {
      if (!form.code || !form.client_id || !form.client_secret || !form.redirect_uri)
        return answer(400, { error: 'invalid_request', error_description: 'Missing required parameter' });
      if (!form.code.startsWith('good-'))
        return answer(400, { error: 'invalid_grant', error_description: 'Malformed auth code.' });
      const accessToken = `ya29.fake-${randomUUID()}`;
      const scopes = codeScopes.get(form.code) ?? BOTH_SCOPES;
      issued.set(accessToken, scopes);
      if (!scopes.includes(DATA_MANAGER_SCOPE))
        commands.adwordsOnlyRefreshTokens.add(`1//refresh-for-${form.code}`);
      return answer(200, {
        access_token: accessToken,
        refresh_token: `1//refresh-for-${form.code}`,
        expires_in: 3599,
        scope: scopes.join(' '),
        token_type: 'Bearer',
      });
    }
    if (form.grant_type !== 'refresh_token' || !form.client_id || !form.client_secret || !form.refresh_token)
      return answer(400, { error: 'invalid_request', error_description: 'Missing required parameter' });
    if (commands.revokedRefreshTokens.has(form.refresh_token))
      return answer(400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
    const accessToken = `ya29.fake-${randomUUID()}`;
    const scopes = commands.adwordsOnlyRefreshTokens.has(form.refresh_token) ? [ADWORDS_SCOPE] : BOTH_SCOPES;
    issued.set(accessToken, scopes);
    return answer(200, {
      access_token: accessToken,
      expires_in: 3599,
      scope: scopes.join(' '),
      token_type: 'Bearer',
    });
  }

  return {
    routes: [route('GET', '/auth', consent), route('POST', '/token', token)],
    tokenRequests,
    reset() {
      tokenRequests.length = 0;
    },
    scopesOf(req) {
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      return bearer ? issued.get(bearer) : undefined;
    },
  };
}
