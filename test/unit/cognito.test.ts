import { generateKeyPairSync } from 'node:crypto';
import {
  FetchError,
  JwtInvalidAudienceError,
  JwtInvalidSignatureAlgorithmError,
  JwtInvalidSignatureError,
  JwtParseError,
  JwtWithoutValidKidError,
  KidNotFoundInJwksError,
  WaitPeriodNotYetEndedJwkError,
} from 'aws-jwt-verify/error';
import { exportJWK, SignJWT } from 'jose';
import {
  authFromCognitoClaims,
  claimedIssuer,
  cognitoIssuer,
  cognitoSettings,
  createCognitoAuthenticator,
  mapCognitoError,
} from '../../functions/shared/platform/auth/cognito';
import { TokenError } from '../../functions/shared/platform/auth/tokens';
import { ConfigurationError } from '../../functions/shared/platform/config/resources';

const POOL = 'eu-west-1_TestPool1';
const ISS = cognitoIssuer(POOL);
const CLIENT = 'client-abc';

describe('Cognito access tokens', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const authenticator = createCognitoAuthenticator({ userPoolId: POOL, clientIds: [CLIENT] });

  beforeAll(async () => {
    const jwk = await exportJWK(publicKey);
    authenticator.cacheJwks({ keys: [{ ...jwk, kid: 'key-1', alg: 'RS256', use: 'sig' }] });
  });

  const now = () => Math.floor(Date.now() / 1000);
  const sign = (claims: Record<string, unknown>, key = privateKey, kid = 'key-1') =>
    new SignJWT({ token_use: 'access', client_id: CLIENT, iss: ISS, sub: 'user-123', ...claims })
      .setProtectedHeader({ alg: 'RS256', kid })
      .setIssuedAt(now())
      .setExpirationTime(now() + 300)
      .sign(key);

  async function failure(token: string): Promise<string> {
    try {
      await authenticator.verify(token);
    } catch (error) {
      return error instanceof TokenError ? error.message : `other: ${String(error)}`;
    }
    return 'accepted';
  }

  it('maps a user token with org and role groups', async () => {
    const token = await sign({ 'cognito:groups': ['org:ten_a', 'role:member', 'role:admin'] });
    expect(await authenticator.verify(token)).toEqual({
      tenantId: 'ten_a',
      role: 'admin',
      subject: 'user-123',
      method: 'cognito',
    });
  });

  it('takes no role from a scope or a role claim, and no tenant from an org_id claim: no group, no access', async () => {
    // The finding: a user without a role group got the role named in the token's scope.
    for (const claims of [
      { 'cognito:groups': ['org:ten_b'], scope: 'adsengineer-api/owner' },
      { 'cognito:groups': ['org:ten_b'], role: 'owner' },
      { org_id: 'ten_b', scope: 'adsengineer-api/viewer adsengineer-api/member other/x' },
      { org_id: 'ten_b', 'cognito:groups': ['role:admin'] },
      { 'cognito:groups': ['org:', 'role:admin'] },
      { 'cognito:groups': [] },
      {},
    ]) {
      expect(await failure(await sign(claims))).toBe('Invalid token format');
    }
    // With its groups, the scope and claims change nothing.
    const token = await sign({
      'cognito:groups': ['org:ten_b', 'role:viewer'],
      scope: 'adsengineer-api/owner',
      role: 'owner',
      org_id: 'ten_other',
    });
    expect(await authenticator.verify(token)).toMatchObject({ tenantId: 'ten_b', role: 'viewer' });
  });

  it('refuses tokens of another key, issuer, client, use, or out of date', async () => {
    const groups = { 'cognito:groups': ['org:ten_a', 'role:member'] };
    expect(await failure(await sign(groups, other.privateKey))).toBe('Invalid token signature');
    expect(await failure(await sign({ ...groups, iss: cognitoIssuer('eu-west-1_Other') }))).toBe(
      'Invalid token issuer',
    );
    expect(await failure(await sign({ ...groups, client_id: 'other-client' }))).toBe(
      'Invalid token audience',
    );
    expect(await failure(await sign({ ...groups, token_use: 'id' }))).toBe('Invalid token format');
    const expired = await new SignJWT({
      token_use: 'access',
      client_id: CLIENT,
      iss: ISS,
      sub: 'u',
      ...groups,
    })
      .setProtectedHeader({ alg: 'RS256', kid: 'key-1' })
      .setIssuedAt(now() - 7200)
      .setExpirationTime(now() - 3600)
      .sign(privateKey);
    expect(await failure(expired)).toBe('Token expired');
  });

  it('refuses a verified token that names no tenant or no role', async () => {
    expect(await failure(await sign({ 'cognito:groups': ['role:admin'] }))).toBe('Invalid token format');
    expect(await failure(await sign({ 'cognito:groups': ['org:a', 'org:b', 'role:admin'] }))).toBe(
      'Invalid token format',
    );
    expect(await failure(await sign({ 'cognito:groups': ['org:a'] }))).toBe('Invalid token format');
  });

  it('reads settings and claimed issuers without trusting them', () => {
    expect(cognitoSettings({})).toBeUndefined();
    expect(cognitoSettings({ COGNITO_USER_POOL_ID: POOL, COGNITO_CLIENT_IDS: 'a, b,' })).toEqual({
      userPoolId: POOL,
      clientIds: ['a', 'b'],
    });
    expect(ISS).toBe('https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TestPool1');
    expect(claimedIssuer(`x.${Buffer.from(JSON.stringify({ iss: ISS })).toString('base64url')}.y`)).toBe(ISS);
    expect(claimedIssuer('garbage')).toBeUndefined();
    expect(claimedIssuer('a.!!!.c')).toBeUndefined();
    expect(() => authFromCognitoClaims({ sub: 's', org_id: 't', role: 'root' })).toThrow(TokenError);
  });
});

describe('mapCognitoError', () => {
  it('maps each verifier failure to one contract message, and an unreachable JWKS to 503', () => {
    const message = (e: unknown) => mapCognitoError(e).message;
    expect(message(new JwtInvalidAudienceError('aud', 'x', 'y'))).toBe('Invalid token audience');
    expect(message(new JwtInvalidSignatureError('sig'))).toBe('Invalid token signature');
    expect(message(new KidNotFoundInJwksError('kid'))).toBe('Invalid token signature');
    expect(message(new WaitPeriodNotYetEndedJwkError('wait'))).toBe('Invalid token signature');
    expect(message(new JwtWithoutValidKidError('kid'))).toBe('Invalid token signature');
    expect(message(new JwtInvalidSignatureAlgorithmError('alg', 'HS256', 'RS256'))).toBe(
      'Invalid token format',
    );
    expect(message(new JwtParseError('parse'))).toBe('Invalid token format');
    expect(message(new Error('anything else'))).toBe('Invalid token format');
    const unreachable = mapCognitoError(new FetchError('https://cognito-idp.example/jwks', 'ENOTFOUND'));
    expect(unreachable).toBeInstanceOf(ConfigurationError);
    const same = new TokenError('expired');
    expect(mapCognitoError(same)).toBe(same);
  });
});
