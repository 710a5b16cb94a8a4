import { generateKeyPairSync } from 'node:crypto';
import type { Request } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { exportJWK, SignJWT } from 'jose';
import type { RouteDefinition } from '../../contract/routes';
import type { TenantStore } from '../../functions/shared/features/tenancy/model';
import { cognitoIssuer, createCognitoAuthenticator } from '../../functions/shared/platform/auth/cognito';
import { parseKeyring } from '../../functions/shared/platform/auth/keyring';
import {
  type Authenticator,
  authentication,
  defaultAuthenticator,
  standing,
} from '../../functions/shared/platform/auth/middleware';
import { signToken, TokenError } from '../../functions/shared/platform/auth/tokens';
import { HttpError } from '../../functions/shared/platform/http/errors';
import type { RequestContext } from '../../functions/shared/platform/http/handler';
import { apiEvent, lambdaContext } from '../support/events';

type Req = Request<APIGatewayProxyEvent, APIGatewayProxyResult, Error, RequestContext>;

const route = (extra: Partial<RouteDefinition>): RouteDefinition => ({
  method: 'GET',
  path: '/api/v1/x',
  functionId: 'api',
  auth: 'jwt',
  minRole: 'viewer',
  summary: 'test',
  ...extra,
});

function request(r: RouteDefinition | undefined, headers: Record<string, string> = {}): Req {
  const context = lambdaContext() as RequestContext;
  if (r) context.route = r;
  return {
    event: apiEvent({ headers }),
    context,
    response: null,
    error: null,
    internal: {},
  } as unknown as Req;
}

async function outcome(authenticator: Authenticator, req: Req): Promise<number> {
  try {
    await authentication(authenticator).before?.(req);
    return 200;
  } catch (error) {
    if (error instanceof HttpError) return error.status;
    throw error;
  }
}

const owner = { tenantId: 't', role: 'owner' as const, subject: 's', method: 'jwt' as const };
const fixed: Authenticator = {
  bearer: async () => owner,
  apiKey: async () => owner,
  admit: async () => undefined,
};

describe('authentication middleware rules', () => {
  it('lets public and signature routes through without credentials', async () => {
    expect(await outcome(fixed, request(route({ auth: 'none' })))).toBe(200);
    expect(await outcome(fixed, request(route({ auth: 'signature' })))).toBe(200);
  });

  it('refuses a route of an unknown auth kind, and needs the route first', async () => {
    expect(await outcome(fixed, request(route({ auth: 'magic' as never })))).toBe(403);
    await expect(authentication(fixed).before?.(request(undefined))).rejects.toThrow(
      'routing middleware first',
    );
  });

  it('requires owner on a JWT route that names no minimum role', async () => {
    const bearer = { Authorization: 'Bearer x.y.z' };
    const member: Authenticator = { ...fixed, bearer: async () => ({ ...owner, role: 'member' }) };
    expect(await outcome(member, request(route({ minRole: undefined }), bearer))).toBe(403);
    expect(await outcome(fixed, request(route({ minRole: undefined }), bearer))).toBe(200);
  });

  it('reads the header whatever its case, and passes on errors that are not credential errors', async () => {
    const broken: Authenticator = {
      ...fixed,
      bearer: async () => {
        throw new Error('keyring unreachable');
      },
      apiKey: async () => {
        throw new Error('table unreachable');
      },
    };
    await expect(
      authentication(broken).before?.(request(route({}), { authorization: 'bearer a.b.c' })),
    ).rejects.toThrow('keyring unreachable');
    await expect(
      authentication(broken).before?.(request(route({ auth: 'apiKey' }), { AUTHORIZATION: `ApiKey ae_x` })),
    ).rejects.toThrow('table unreachable');
    expect(await outcome(fixed, request(route({}), { Authorization: 'Bearer  two  spaces' }))).toBe(401);
  });

  it('refuses a verified token whose standing is gone with 401, and forgets the caller', async () => {
    const ended: Authenticator = {
      ...fixed,
      admit: async () => {
        throw new TokenError('expired');
      },
    };
    const admitted = async (authenticator: Authenticator, req: Req) => {
      try {
        await standing(authenticator).before?.(req);
        return 200;
      } catch (error) {
        if (error instanceof HttpError) return error.status;
        throw error;
      }
    };
    const verified = (r: RouteDefinition) => {
      const req = request(r);
      req.context.auth = owner;
      return req;
    };
    const req = verified(route({}));
    expect(await admitted(ended, req)).toBe(401);
    expect(req.context.auth).toBeUndefined();
    expect(await admitted(ended, verified(route({ auth: 'platformAdmin' })))).toBe(401);
    // Not a bearer route, or no verified caller: nothing to judge.
    expect(await admitted(ended, verified(route({ auth: 'apiKey' })))).toBe(200);
    expect(await admitted(ended, request(route({})))).toBe(200);
    expect(await admitted(fixed, verified(route({})))).toBe(200);
    const broken: Authenticator = {
      ...fixed,
      admit: async () => {
        throw new Error('table unreachable');
      },
    };
    await expect(standing(broken).before?.(verified(route({})))).rejects.toThrow('table unreachable');
  });

  it('sends tokens that claim the Cognito pool to Cognito, and the rest to HS256', async () => {
    const pool = 'eu-west-1_RouteTest';
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const cognito = createCognitoAuthenticator({ userPoolId: pool, clientIds: [] });
    cognito.cacheJwks({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] });
    const secret = 'route-test-secret-0123456789-abcdefghijklmn';
    process.env.JWT_SECRET = secret;
    const authenticator = defaultAuthenticator(cognito, {} as TenantStore);
    const now = Math.floor(Date.now() / 1000);
    const cognitoToken = await new SignJWT({
      token_use: 'access',
      client_id: 'c',
      iss: cognitoIssuer(pool),
      sub: 'user-m',
      'cognito:groups': ['org:ten_m2m', 'role:member'],
    })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(privateKey);
    expect(await authenticator.bearer(cognitoToken)).toEqual({
      tenantId: 'ten_m2m',
      role: 'member',
      subject: 'user-m',
      method: 'cognito',
    });
    const ours = await signToken(parseKeyring(secret), { sub: 'u', org_id: 'ten_a', role: 'viewer' }, 60);
    expect(await authenticator.bearer(ours)).toMatchObject({ tenantId: 'ten_a', method: 'jwt' });
    delete process.env.JWT_SECRET;
  });
});
