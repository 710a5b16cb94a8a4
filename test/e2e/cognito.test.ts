import { generateKeyPairSync } from 'node:crypto';
import https from 'node:https';
import { PassThrough, Readable } from 'node:stream';
import { exportJWK, SignJWT } from 'jose';
import { cognitoIssuer } from '../../functions/shared/platform/auth/cognito';
import type { LocalStack } from '../../local/stack';
import { request } from '../support/http';
import { startTestStack } from '../support/local-stack';
import { createTenant, type TestTenant } from '../support/tenants';

/**
 * Cognito access tokens over HTTP: tenant and role come from the pool's groups only. A user
 * without a role group got the role named in the token's scope, which the caller may choose when
 * the app client allows those scopes; such a user now has no access (401).
 */
const POOL = 'eu-west-1_E2eGroups1';
const CLIENT = 'e2e-client';
const ISSUER = cognitoIssuer(POOL);
const JWKS_URL = `${ISSUER}/.well-known/jwks.json`;
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

let stack: LocalStack;
let tenant: TestTenant;
const realRequest = https.request;
const call = (method: string, path: string, token: string) => request(stack.url, method, path, { token });

async function cognitoToken(claims: Record<string, unknown>): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ token_use: 'access', client_id: CLIENT, sub: 'cognito-user-1', ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: 'pool-key-1' })
    .setIssuer(ISSUER)
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .sign(privateKey);
}

describe('Cognito tokens over HTTP', () => {
  beforeAll(async () => {
    // The pool's JWKS, as Cognito publishes it, answered in place of the network.
    const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'pool-key-1', alg: 'RS256', use: 'sig' }] };
    (https as { request: unknown }).request = (
      uri: string | URL,
      options: https.RequestOptions,
      callback: (res: Readable) => void,
    ) => {
      if (String(uri) !== JWKS_URL) return realRequest(uri, options, callback);
      const response = Object.assign(Readable.from([Buffer.from(JSON.stringify(jwks))]), { statusCode: 200 });
      process.nextTick(() => callback(response));
      return new PassThrough();
    };
    process.env.COGNITO_USER_POOL_ID = POOL;
    process.env.COGNITO_CLIENT_IDS = CLIENT;
    stack = await startTestStack('cognito');
    tenant = await createTenant(stack.url, 'Cognito Agency');
  });

  afterAll(async () => {
    (https as { request: unknown }).request = realRequest;
    delete process.env.COGNITO_USER_POOL_ID;
    delete process.env.COGNITO_CLIENT_IDS;
    await stack.stop();
  });

  it("admits a user by the pool's org and role groups", async () => {
    const token = await cognitoToken({ 'cognito:groups': [`org:${tenant.id}`, 'role:member'] });
    expect((await call('GET', '/api/v1/leads', token)).status).toBe(200);
  });

  it('gives a user without a role group no access, whatever scope or claim the token carries', async () => {
    for (const claims of [
      { 'cognito:groups': [`org:${tenant.id}`], scope: 'adsengineer-api/owner' },
      { 'cognito:groups': [`org:${tenant.id}`], role: 'owner' },
      { org_id: tenant.id, scope: 'adsengineer-api/admin' },
    ]) {
      const res = await call('GET', '/api/v1/leads', await cognitoToken(claims));
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: 'invalid_token', message: 'Invalid token format' });
    }
  });

  it("never raises a user's role from a scope", async () => {
    const viewer = await cognitoToken({
      'cognito:groups': [`org:${tenant.id}`, 'role:viewer'],
      scope: 'adsengineer-api/owner',
    });
    expect((await call('GET', '/api/v1/api-keys', viewer)).status).toBe(403);
    expect((await call('GET', '/api/v1/leads', viewer)).status).toBe(200);
  });
});
