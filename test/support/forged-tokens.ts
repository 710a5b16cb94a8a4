/**
 * Tokens made by hand, as an attacker who knows (or guesses) a signing secret would make them:
 * HS256 JWTs whose header, claims and key the test chooses.
 */
import { createHmac } from 'node:crypto';
import { kidOf } from '../../functions/shared/platform/auth/keyring';
import { AUDIENCE, ISSUER } from '../../functions/shared/platform/auth/tokens';

/** A JSON value as a JWT segment (base64url). */
export const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A JWT signed with HMAC-SHA256 under `key`, whatever its header says. */
export function forgeJwt(header: object, payload: object, key: Buffer | string): string {
  const input = `${segment(header)}.${segment(payload)}`;
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
}

/** The header of the stack's own tokens signed with this secret. */
export const hs256Header = (secret: Buffer) => ({
  alg: 'HS256',
  typ: 'JWT',
  kid: kidOf(secret.toString('utf8')),
});

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Owner claims of `org` for `sub`, issued now for five minutes, with `extra` on top. */
export const ownerClaims = (sub: string, org: string, extra: Record<string, unknown> = {}) => ({
  sub,
  org_id: org,
  role: 'owner',
  iss: ISSUER,
  aud: AUDIENCE,
  iat: nowSeconds(),
  exp: nowSeconds() + 300,
  ...extra,
});
