import { CognitoJwtVerifier } from 'aws-jwt-verify';
import {
  CognitoJwtInvalidClientIdError,
  CognitoJwtInvalidTokenUseError,
  FetchError,
  JwtExpiredError,
  JwtInvalidAudienceError,
  JwtInvalidIssuerError,
  JwtInvalidSignatureAlgorithmError,
  JwtInvalidSignatureError,
  JwtWithoutValidKidError,
  KidNotFoundInJwksError,
  WaitPeriodNotYetEndedJwkError,
} from 'aws-jwt-verify/error';
import { COGNITO_RESOURCE_SERVER_ID, type Role } from '../../../lib/definitions/routes';
import { ConfigurationError } from '../config';
import { type AuthContext, isRole, roleRank } from './context';
import { TokenError } from './tokens';

const RESOURCE_SERVER_ID = COGNITO_RESOURCE_SERVER_ID;

export interface CognitoSettings {
  userPoolId: string;
  /** App clients whose tokens are accepted; all of the pool's when empty. */
  clientIds: string[];
}

/** Cognito is optional: configured when COGNITO_USER_POOL_ID is set. */
export function cognitoSettings(env: NodeJS.ProcessEnv = process.env): CognitoSettings | undefined {
  const userPoolId = env.COGNITO_USER_POOL_ID;
  if (!userPoolId) return undefined;
  const clientIds = (env.COGNITO_CLIENT_IDS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return { userPoolId, clientIds };
}

export function cognitoIssuer(userPoolId: string): string {
  const region = userPoolId.split('_')[0];
  return `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`;
}

function highestRole(roles: Role[]): Role | undefined {
  return roles.sort((x, y) => roleRank(y) - roleRank(x))[0];
}

/**
 * Maps a verified Cognito access token to our auth context:
 * - tenant: the `org_id` claim (added by a pre-token-generation trigger), else the user's single
 *   `org:<tenant>` group;
 * - role: the `role` claim, else the highest `role:<role>` group, else the highest
 *   `adsengineer-api/<role>` scope (machine-to-machine clients).
 * A token that names no tenant or no role is refused.
 */
export function authFromCognitoClaims(payload: Record<string, unknown>): AuthContext {
  const groups = Array.isArray(payload['cognito:groups']) ? (payload['cognito:groups'] as unknown[]) : [];
  const groupNames = groups.filter((g): g is string => typeof g === 'string');
  const orgGroups = groupNames.filter((g) => g.startsWith('org:')).map((g) => g.slice(4));
  const tenantId =
    typeof payload.org_id === 'string' && payload.org_id
      ? payload.org_id
      : orgGroups.length === 1
        ? orgGroups[0]
        : '';

  const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
  const scopeRoles = scopes
    .filter((s) => s.startsWith(`${RESOURCE_SERVER_ID}/`))
    .map((s) => s.slice(RESOURCE_SERVER_ID.length + 1))
    .filter(isRole);
  const groupRoles = groupNames
    .filter((g) => g.startsWith('role:'))
    .map((g) => g.slice(5))
    .filter(isRole);
  const role = isRole(payload.role) ? payload.role : (highestRole(groupRoles) ?? highestRole(scopeRoles));

  const subject = typeof payload.sub === 'string' ? payload.sub : '';
  if (!tenantId || !role || !subject) throw new TokenError('format');
  return { tenantId, role, subject, method: 'cognito' };
}

/** Maps aws-jwt-verify errors to the contract's token failures; an unreachable JWKS fails closed. */
export function mapCognitoError(error: unknown): Error {
  if (error instanceof TokenError) return error;
  if (error instanceof JwtExpiredError) return new TokenError('expired');
  if (error instanceof JwtInvalidIssuerError) return new TokenError('issuer');
  if (error instanceof JwtInvalidAudienceError || error instanceof CognitoJwtInvalidClientIdError) {
    return new TokenError('audience');
  }
  if (
    error instanceof JwtInvalidSignatureError ||
    error instanceof KidNotFoundInJwksError ||
    error instanceof WaitPeriodNotYetEndedJwkError ||
    error instanceof JwtWithoutValidKidError
  ) {
    return new TokenError('signature');
  }
  if (error instanceof JwtInvalidSignatureAlgorithmError || error instanceof CognitoJwtInvalidTokenUseError) {
    return new TokenError('format');
  }
  // The pool's keys could not be fetched: we cannot judge the token, so we refuse to serve.
  if (error instanceof FetchError) return new ConfigurationError('Cognito JWKS could not be fetched');
  return new TokenError('format');
}

export interface CognitoAuthenticator {
  readonly issuer: string;
  verify(token: string): Promise<AuthContext>;
  /** Preloads the pool's JWKS (tests, or a warm start without a network round trip). */
  cacheJwks(jwks: { keys: Array<Record<string, unknown>> }): void;
}

export function createCognitoAuthenticator(settings: CognitoSettings): CognitoAuthenticator {
  const verifier = CognitoJwtVerifier.create({
    userPoolId: settings.userPoolId,
    tokenUse: 'access',
    clientId: settings.clientIds.length ? settings.clientIds : null,
  });
  return {
    issuer: cognitoIssuer(settings.userPoolId),
    async verify(token) {
      if (claimedIssuer(token) !== cognitoIssuer(settings.userPoolId)) throw new TokenError('issuer');
      try {
        const payload = (await verifier.verify(token)) as unknown as Record<string, unknown>;
        return authFromCognitoClaims(payload);
      } catch (error) {
        throw mapCognitoError(error);
      }
    },
    cacheJwks(jwks) {
      verifier.cacheJwks(jwks as unknown as Parameters<typeof verifier.cacheJwks>[0]);
    },
  };
}

/** The `iss` a token claims, read without trusting it: only to pick the verifier. */
export function claimedIssuer(token: string): string | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { iss?: unknown };
    return typeof claims.iss === 'string' ? claims.iss : undefined;
  } catch {
    return undefined;
  }
}
