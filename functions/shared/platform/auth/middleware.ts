import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { METRICS } from '../../../../contract/metrics';
import { DynamoTenantStore } from '../../features/tenancy/dynamo';
import type { TenantStore } from '../../features/tenancy/model';
import { ApiKeyError, authenticateApiKey } from '../../features/tenancy/service';
import { forbidden, HttpError } from '../http/errors';
import type { RequestContext } from '../http/request';
import { metrics } from '../observability';
import {
  type CognitoAuthenticator,
  claimedIssuer,
  cognitoSettings,
  createCognitoAuthenticator,
} from './cognito';
import { type AuthContext, hasRole, isPlatformAdmin } from './context';
import { loadKeyring } from './keyring';
import { StandingCheck } from './standing';
import { TOKEN_MESSAGES, TokenError, verifyToken } from './tokens';

/** How the middleware proves who is calling; swapped in tests. */
export interface Authenticator {
  bearer(token: string): Promise<AuthContext>;
  apiKey(key: string): Promise<AuthContext>;
  /**
   * Whether a verified bearer may still act (its tenant active, its API key unrevoked); throws a
   * TokenError when not. Called once the route's role is satisfied. Required: no authenticator
   * skips it.
   */
  admit(auth: AuthContext): Promise<void>;
}

function cognitoFromEnv(): CognitoAuthenticator | undefined {
  const settings = cognitoSettings();
  return settings ? createCognitoAuthenticator(settings) : undefined;
}

/**
 * Our HS256 tokens, and, when a Cognito user pool is configured, its access tokens: a token that
 * claims the pool as issuer goes to the Cognito verifier (RS256 against the pool's JWKS), every
 * other token to the HS256 verifier. Each path verifies fully; the claimed issuer only routes.
 */
export function defaultAuthenticator(
  cognito: CognitoAuthenticator | undefined = cognitoFromEnv(),
  store: TenantStore = new DynamoTenantStore(),
): Authenticator {
  const standing = new StandingCheck(store);
  return {
    bearer: async (token) => {
      if (cognito && claimedIssuer(token) === cognito.issuer) return cognito.verify(token);
      return verifyToken(token, await loadKeyring());
    },
    apiKey: (key) => authenticateApiKey(store, key),
    admit: (auth) => standing.admit(auth),
  };
}

const unauthorized = (code: string, message: string, scheme: string) =>
  new HttpError(401, code, message, {}, { 'WWW-Authenticate': `${scheme} realm="adsengineer"` });

function credential(header: string | undefined, scheme: string): string | undefined {
  if (!header) return undefined;
  const match = /^(\S+) (\S+)$/.exec(header.trim());
  if (!match || (match[1] as string).toLowerCase() !== scheme.toLowerCase()) return undefined;
  return match[2];
}

function authorizationHeader(event: APIGatewayProxyEvent): string | undefined {
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (name.toLowerCase() === 'authorization') return value ?? undefined;
  }
  return undefined;
}

function refusedToken(error: unknown): unknown {
  if (!(error instanceof TokenError)) return error;
  metrics.addMetric(METRICS.authTokenRejected, 'Count', 1);
  return unauthorized('invalid_token', error.message, 'Bearer');
}

function resolver(authenticator: Authenticator | (() => Authenticator)): () => Authenticator {
  let resolved: Authenticator | undefined;
  return () => {
    resolved ??= typeof authenticator === 'function' ? authenticator() : authenticator;
    return resolved;
  };
}

/**
 * Authenticates and authorises every route by the auth kind and minimum role the route table
 * gives it, before any handler code runs. Fails closed: a route of an unknown kind is refused.
 */
export function authentication(
  authenticator: Authenticator | (() => Authenticator) = defaultAuthenticator,
): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult, Error, RequestContext> {
  const get = resolver(authenticator);
  return {
    before: async (request) => {
      const route = request.context.route;
      if (!route) throw new Error('authentication needs the routing middleware first');
      switch (route.auth) {
        case 'none':
        case 'signature':
          return;
        case 'apiKey': {
          const key = credential(authorizationHeader(request.event), 'ApiKey');
          if (!key)
            throw unauthorized('invalid_api_key', 'Missing or invalid authorization header', 'ApiKey');
          try {
            request.context.auth = await get().apiKey(key);
          } catch (error) {
            if (error instanceof ApiKeyError) {
              metrics.addMetric(METRICS.authApiKeyRejected, 'Count', 1);
              throw unauthorized('invalid_api_key', error.message, 'ApiKey');
            }
            throw error;
          }
          return;
        }
        case 'jwt':
        case 'platformAdmin': {
          const token = credential(authorizationHeader(request.event), 'Bearer');
          if (!token) throw unauthorized('invalid_token', TOKEN_MESSAGES.missing, 'Bearer');
          let auth: AuthContext;
          try {
            auth = await get().bearer(token);
          } catch (error) {
            throw refusedToken(error);
          }
          // Known from here on, even if refused below: a 403 counts against the caller's tenant.
          request.context.auth = auth;
          if (
            route.auth === 'platformAdmin'
              ? !isPlatformAdmin(auth)
              : !hasRole(auth.role, route.minRole ?? 'owner')
          ) {
            request.context.refused = true;
            throw forbidden();
          }
          return;
        }
        default:
          throw forbidden();
      }
    },
  };
}

/**
 * Whether a verified bearer may still act: its tenant exists and is active, its API key (for a
 * token exchanged for one) is not revoked. Runs after the tenant's rate limit, so the answer,
 * a refusal or a failure to read the tenant, carries the tenant's limit like any other. A token
 * that has lost its standing is 401 `invalid_token` and counts against the caller's IP too.
 */
export function standing(
  authenticator: Authenticator | (() => Authenticator) = defaultAuthenticator,
): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult, Error, RequestContext> {
  const get = resolver(authenticator);
  return {
    before: async (request) => {
      const { route, auth } = request.context;
      if (!auth || (route?.auth !== 'jwt' && route?.auth !== 'platformAdmin')) return;
      try {
        await get().admit(auth);
      } catch (error) {
        delete request.context.auth;
        throw refusedToken(error);
      }
    },
  };
}
