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
import type { Role } from '../../../../contract/routes';
import { ConfigurationError } from '../config/resources';
import { type AuthContext, isRole, roleRank } from './context';
import { TokenError } from './tokens';

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
 * Maps a verified Cognito access token to our auth context, from the pool's group claim only
 * (`cognito:groups`, which only the pool's administrators set):
 * - tenant: the user's single `org:<tenant>` group;
 * - role: the highest of the user's `role:<role>` groups.
 * Nothing the caller can choose counts: not a scope (an app client may let the caller ask for any
 * of its scopes), not a custom `org_id` or `role` claim. A token without exactly one tenant group
 * or without a role group is refused (401): no group, no access.
 */
export function authFromCognitoClaims(payload: Record<string, unknown>): AuthContext {
  const groups = Array.isArray(payload['cognito:groups']) ? (payload['cognito:groups'] as unknown[]) : [];
  const groupNames = groups.filter((g): g is string => typeof g === 'string');
  const orgGroups = groupNames.filter((g) => g.startsWith('org:') && g.length > 4).map((g) => g.slice(4));
  const tenantId = orgGroups.length === 1 ? (orgGroups[0] as string) : '';
  const role = highestRole(
    groupNames
      .filter((g) => g.startsWith('role:'))
      .map((g) => g.slice(5))
      .filter(isRole),
  );
  const subject = typeof payload.sub === 'string' ? payload.sub : '';
  if (!tenantId || !role || !subject) throw new TokenError('format');
  return { tenantId, role, subject, method: 'cognito' };
}

/** Maps aws-jwt-verify errors to the API's token failures (401); an unreachable JWKS fails closed. */
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
