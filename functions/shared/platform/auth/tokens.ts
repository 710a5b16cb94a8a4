import { errors, jwtVerify, SignJWT } from 'jose';
import type { Role } from '../../../../contract/routes';
import { ConfigurationError } from '../config/resources';
import { type AuthContext, isRole } from './context';
import { type Keyring, keyFor } from './keyring';

export const ISSUER = 'adsengineer';
export const AUDIENCE = 'adsengineer-api';
export const CLOCK_SKEW_SECONDS = 60;
/** Tokens exchanged for an API key live at most this long. */
export const API_TOKEN_SECONDS = 15 * 60;
/** The longest lifetime of a token by default (`JWT_MAX_TTL_SECONDS`), from its `iat`. */
export const MAX_TOKEN_SECONDS = 24 * 3600;
export const MAX_TTL_ENV = 'JWT_MAX_TTL_SECONDS';

/**
 * The longest a token may live, `exp` minus `iat`: `JWT_MAX_TTL_SECONDS`, default 86400. A value
 * that is not a positive whole number of seconds is refused (fail closed), never ignored.
 */
export function maxTokenSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[MAX_TTL_ENV];
  if (raw === undefined || raw === '') return MAX_TOKEN_SECONDS;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < 1) {
    throw new ConfigurationError(`${MAX_TTL_ENV} must be a positive whole number of seconds`);
  }
  return value;
}

export type TokenFailure = 'missing' | 'format' | 'signature' | 'issuer' | 'audience' | 'expired';

/** The documented messages, one per cause (docs/api.md, Using the API locally; the OpenAPI document). */
export const TOKEN_MESSAGES: Readonly<Record<TokenFailure, string>> = {
  missing: 'Missing or invalid authorization header',
  format: 'Invalid token format',
  signature: 'Invalid token signature',
  issuer: 'Invalid token issuer',
  audience: 'Invalid token audience',
  expired: 'Token expired',
};

export class TokenError extends Error {
  override readonly name = 'TokenError';
  constructor(readonly reason: TokenFailure) {
    super(TOKEN_MESSAGES[reason]);
  }
}

export interface TokenClaims {
  sub: string;
  org_id: string;
  role: Role;
}

export async function signToken(
  keyring: Keyring,
  claims: TokenClaims,
  ttlSeconds: number,
  now: number = Date.now(),
): Promise<string> {
  const max = maxTokenSeconds();
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > max) {
    throw new RangeError(`token lifetime must be 1..${max} seconds`);
  }
  const iat = Math.floor(now / 1000);
  return new SignJWT({ org_id: claims.org_id, role: claims.role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: keyring.current.kid })
    .setSubject(claims.sub)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlSeconds)
    .sign(keyring.current.secret);
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;

function decodeHeader(token: string): Record<string, unknown> {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => SEGMENT.test(p))) throw new TokenError('format');
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(parts[0] as string, 'base64url').toString('utf8'));
  } catch {
    throw new TokenError('format');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new TokenError('format');
  return header as Record<string, unknown>;
}

function mapJoseError(error: unknown): TokenError {
  if (error instanceof errors.JWTExpired) return new TokenError('expired');
  if (error instanceof errors.JWSSignatureVerificationFailed) return new TokenError('signature');
  if (error instanceof errors.JWTClaimValidationFailed) {
    // The issuer is judged before the audience, whichever of the two jose noticed first.
    if (error.claim === 'iss' || error.payload.iss !== ISSUER) return new TokenError('issuer');
    if (error.claim === 'aud') return new TokenError('audience');
  }
  return new TokenError('format');
}

/**
 * Verifies one of our HS256 tokens. Only HS256 is accepted: `none` and every asymmetric or other
 * HMAC algorithm fail before any key is used. Signature first, then issuer, audience and times
 * (60 s of clock skew); `exp` and `iat` are required, and a token may live at most
 * `JWT_MAX_TTL_SECONDS` from its `iat`: a longer-lived one is refused as malformed.
 */
export async function verifyToken(
  token: string,
  keyring: Keyring,
  now: number = Date.now(),
): Promise<AuthContext> {
  const header = decodeHeader(token);
  if (header.alg !== 'HS256') throw new TokenError('format');
  if (header.typ !== undefined && String(header.typ).toUpperCase() !== 'JWT') throw new TokenError('format');
  if (header.crit !== undefined) throw new TokenError('format');
  if (header.kid !== undefined && typeof header.kid !== 'string') throw new TokenError('format');
  const nowSeconds = Math.floor(now / 1000);
  const key = keyFor(keyring, header.kid as string | undefined, nowSeconds);
  if (!key) throw new TokenError('signature');

  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, key.secret, {
      algorithms: ['HS256'],
      issuer: ISSUER,
      audience: AUDIENCE,
      clockTolerance: CLOCK_SKEW_SECONDS,
      requiredClaims: ['exp', 'iat'],
      currentDate: new Date(now),
    }));
  } catch (error) {
    throw mapJoseError(error);
  }
  const { iat, exp } = payload;
  if (typeof iat !== 'number' || typeof exp !== 'number' || iat > nowSeconds + CLOCK_SKEW_SECONDS)
    throw new TokenError('format');
  if (exp - iat > maxTokenSeconds()) throw new TokenError('format');
  const { sub, org_id: orgId, role } = payload;
  if (typeof sub !== 'string' || !sub || typeof orgId !== 'string' || !orgId || !isRole(role)) {
    throw new TokenError('format');
  }
  return { tenantId: orgId, role, subject: sub, method: 'jwt' };
}
