import type { APIGatewayProxyResult } from 'aws-lambda';
import { ROLES, ROUTES, type Role, type RouteDefinition } from '../../contract/routes';
import { parseKeyring } from '../../functions/shared/platform/auth/keyring';
import { signToken } from '../../functions/shared/platform/auth/tokens';
import { resetClients } from '../../functions/shared/platform/aws/clients';
import { loadHandler } from '../../local/lambda';
import { apiEvent, lambdaContext } from '../support/events';

const SECRET = 'middleware-test-secret-0123456789-abcdefghij';
const authenticated = ROUTES.filter(
  (r) => r.auth === 'jwt' || r.auth === 'platformAdmin' || r.auth === 'apiKey',
);

function eventFor(route: RouteDefinition, authorization?: string) {
  const params = Object.fromEntries([...route.path.matchAll(/\{(\w+)\}/g)].map((m) => [m[1] as string, 'x']));
  return apiEvent({
    method: route.method,
    resource: route.path,
    params,
    headers: authorization ? { Authorization: authorization } : {},
  });
}

async function call(route: RouteDefinition, authorization?: string): Promise<APIGatewayProxyResult> {
  const handler = await loadHandler(route.functionId);
  return (await handler(eventFor(route, authorization), lambdaContext())) as APIGatewayProxyResult;
}

const token = (org: string, role: Role) =>
  signToken(parseKeyring(SECRET), { sub: `user-${role}`, org_id: org, role }, 300);

describe('authentication middleware over the whole route table', () => {
  const saved = { ...process.env };
  beforeAll(() => {
    process.env.JWT_SECRET = SECRET;
    process.env.PLATFORM_ORG_ID = 'platform';
    process.env.RATE_LIMIT_STORE = 'memory';
    // Every route of the table is called several times from one address: the per-IP limit must
    // not be what answers.
    process.env.RATE_LIMIT_IP_PER_HOUR = '100000';
    // No tables configured: a request that got past authentication fails closed with 503.
    for (const name of ['TENANTS_TABLE', 'AWS_ENDPOINT_URL']) delete process.env[name];
    resetClients();
  });
  afterAll(() => {
    process.env = saved;
  });

  it('covers every authenticated route, and every JWT route names its minimum role', () => {
    expect(authenticated.length).toBeGreaterThan(0);
    for (const route of ROUTES.filter((r) => r.auth === 'jwt')) expect(route.minRole).toBeDefined();
  });

  it.each(authenticated.map((r) => [`${r.method} ${r.path}`, r] as const))(
    '%s refuses a request without credentials',
    async (_name, route) => {
      const res = await call(route);
      expect(res.statusCode).toBe(401);
      const body = JSON.parse(res.body);
      expect(body.message).toBe('Missing or invalid authorization header');
      expect(body.error).toBe(route.auth === 'apiKey' ? 'invalid_api_key' : 'invalid_token');
      expect(String(res.headers?.['WWW-Authenticate'])).toMatch(
        route.auth === 'apiKey' ? /^ApiKey/ : /^Bearer/,
      );
    },
  );

  it.each(authenticated.map((r) => [`${r.method} ${r.path}`, r] as const))(
    '%s refuses the wrong scheme and garbage credentials',
    async (_name, route) => {
      const wrongScheme = await call(route, route.auth === 'apiKey' ? 'Bearer abc' : 'Basic dXNlcjpwdw==');
      expect(wrongScheme.statusCode).toBe(401);
      const garbage = await call(route, route.auth === 'apiKey' ? 'ApiKey garbage' : 'Bearer garbage');
      expect(garbage.statusCode).toBe(401);
      expect(JSON.parse(garbage.body).message).toBe(
        route.auth === 'apiKey' ? 'Invalid API key' : 'Invalid token format',
      );
    },
  );

  const jwtRoutes = ROUTES.filter((r) => r.auth === 'jwt');
  it.each(jwtRoutes.map((r) => [`${r.method} ${r.path}`, r] as const))(
    '%s enforces its minimum role',
    async (_name, route) => {
      for (const role of ROLES) {
        const res = await call(route, `Bearer ${await token('tenant-a', role)}`);
        const allowed = ROLES.indexOf(role) >= ROLES.indexOf(route.minRole as Role);
        if (allowed) {
          expect(res.statusCode).not.toBe(401);
          expect(res.statusCode).not.toBe(403);
        } else {
          expect(res.statusCode).toBe(403);
          expect(JSON.parse(res.body).error).toBe('forbidden');
        }
      }
    },
  );

  const adminRoutes = ROUTES.filter((r) => r.auth === 'platformAdmin');
  it.each(adminRoutes.map((r) => [`${r.method} ${r.path}`, r] as const))(
    '%s admits only platform admins and owners',
    async (_name, route) => {
      for (const [org, role, allowed] of [
        ['tenant-a', 'owner', false],
        ['platform', 'member', false],
        ['platform', 'viewer', false],
        ['platform', 'admin', true],
        ['platform', 'owner', true],
      ] as const) {
        const res = await call(route, `Bearer ${await token(org, role)}`);
        if (allowed) expect([401, 403]).not.toContain(res.statusCode);
        else expect(res.statusCode).toBe(403);
      }
    },
  );

  it('fails closed with 503 when the signing secret is not configured', async () => {
    const route = jwtRoutes[0] as RouteDefinition;
    const bearer = `Bearer ${await token('tenant-a', 'owner')}`;
    delete process.env.JWT_SECRET;
    delete process.env.JWT_SECRET_ARN;
    try {
      const res = await call(route, bearer);
      expect(res.statusCode).toBe(503);
      expect(JSON.parse(res.body)).toMatchObject({ error: 'service_unavailable' });
    } finally {
      process.env.JWT_SECRET = SECRET;
    }
  });
});
