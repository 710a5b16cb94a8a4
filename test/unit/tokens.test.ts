import { createHmac, generateKeyPairSync } from 'node:crypto';
import { compactVerify, SignJWT } from 'jose';
import {
  type Keyring,
  keyFor,
  kidOf,
  parseKeyring,
  rotatedValue,
} from '../../functions/shared/platform/auth/keyring';
import {
  API_TOKEN_SECONDS,
  AUDIENCE,
  ISSUER,
  MAX_TTL_ENV,
  maxTokenSeconds,
  signToken,
  TOKEN_MESSAGES,
  TokenError,
  verifyToken,
} from '../../functions/shared/platform/auth/tokens';
import { ConfigurationError } from '../../functions/shared/platform/config/resources';

const SECRET = 'unit-test-secret-0123456789-abcdefghijklmnop';
const OTHER = 'another-secret-0123456789-abcdefghijklmnopqrs';
const keyring = parseKeyring(SECRET);
const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);
const nowS = Math.floor(NOW / 1000);

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
function hs256(header: object, payload: object, secret: string | Buffer = SECRET): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}
function signedRaw(h: object, payload: string): string {
  const input = `${b64(h)}.${Buffer.from(payload).toString('base64url')}`;
  return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
}
const claims = (extra: Record<string, unknown> = {}) => ({
  sub: 'user-1',
  org_id: 'tenant-a',
  role: 'member',
  iss: ISSUER,
  aud: AUDIENCE,
  iat: nowS,
  exp: nowS + 600,
  ...extra,
});
const header = { alg: 'HS256', typ: 'JWT', kid: kidOf(SECRET) };

async function failure(token: string, ring: Keyring = keyring, now = NOW): Promise<string> {
  try {
    await verifyToken(token, ring, now);
  } catch (error) {
    if (error instanceof TokenError) return error.message;
    throw error;
  }
  throw new Error('token was accepted');
}

describe('RFC 7515 Appendix A.1 (HS256)', () => {
  const token =
    'eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9' +
    '.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ' +
    '.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
  const key = Buffer.from(
    'AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow',
    'base64url',
  );
  const rfcRing: Keyring = { current: { kid: 'rfc', secret: key } };
  const beforeExpiry = 1300819380 * 1000 - 1000;

  it("verifies the example's signature with the RFC's key", async () => {
    const { payload } = await compactVerify(token, key);
    expect(JSON.parse(Buffer.from(payload).toString())).toMatchObject({ iss: 'joe', exp: 1300819380 });
  });

  it('passes the signature check and is then refused for its issuer under our rules', async () => {
    expect(await failure(token, rfcRing, beforeExpiry)).toBe('Invalid token issuer');
  });

  it('is refused for a signature made with any other key', async () => {
    expect(await failure(token, keyring, beforeExpiry)).toBe('Invalid token signature');
  });

  it('is refused for its audience once the issuer is ours', async () => {
    const ours = hs256({ alg: 'HS256', typ: 'JWT' }, { iss: ISSUER, exp: 1300819380 }, key);
    expect(await failure(ours, rfcRing, beforeExpiry)).toBe('Invalid token audience');
  });
});

describe('verifyToken', () => {
  it('accepts a token it signed and maps its claims', async () => {
    const token = await signToken(keyring, { sub: 'user-1', org_id: 'tenant-a', role: 'admin' }, 900, NOW);
    expect(await verifyToken(token, keyring, NOW)).toEqual({
      tenantId: 'tenant-a',
      role: 'admin',
      subject: 'user-1',
      method: 'jwt',
    });
    const { protectedHeader } = await compactVerify(token, keyring.current.secret);
    expect(protectedHeader).toEqual({ alg: 'HS256', typ: 'JWT', kid: keyring.current.kid });
  });

  it.each([
    ['garbage', 'not-a-token'],
    ['two segments', `${b64(header)}.${b64(claims())}`],
    ['four segments', `${hs256(header, claims())}.x`],
    ['header not JSON', `${Buffer.from('{oops').toString('base64url')}.${b64(claims())}.c2ln`],
    ['header an array', `${b64([1])}.${b64(claims())}.c2ln`],
    ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`],
    ['alg none with a signature', `${b64({ alg: 'none' })}.${b64(claims())}.c2ln`],
    ['alg HS512', hs256({ alg: 'HS512', typ: 'JWT' }, claims())],
    ['typ not JWT', hs256({ alg: 'HS256', typ: 'JOSE+JSON' }, claims())],
    ['crit header', hs256({ alg: 'HS256', crit: ['exp'] }, claims())],
    ['numeric kid', hs256({ alg: 'HS256', kid: 7 }, claims())],
    ['missing exp', hs256(header, claims({ exp: undefined }))],
    ['missing iat', hs256(header, claims({ iat: undefined }))],
    ['iat not a number', hs256(header, claims({ iat: String(nowS) }))],
    ['a ten-year lifetime', hs256(header, claims({ exp: nowS + 10 * 365 * 86400 }))],
    ['a lifetime of 24 h and 1 s', hs256(header, claims({ exp: nowS + 86400 + 1 }))],
    ['an old iat with a fresh exp', hs256(header, claims({ iat: nowS - 2 * 86400, exp: nowS + 60 }))],
    ['nbf in the future', hs256(header, claims({ nbf: nowS + 120 }))],
    ['iat in the future', hs256(header, claims({ iat: nowS + 120 }))],
    ['missing org_id', hs256(header, claims({ org_id: undefined }))],
    ['unknown role', hs256(header, claims({ role: 'superuser' }))],
    ['empty sub', hs256(header, claims({ sub: '' }))],
    ['payload not JSON', signedRaw(header, 'nope')],
  ])('refuses %s as a bad format', async (_case, token) => {
    expect(await failure(token)).toBe(TOKEN_MESSAGES.format);
  });

  it('refuses RS256, including with the HS secret posing as the public key', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rs = await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256', typ: 'JWT' }).sign(privateKey);
    expect(await failure(rs)).toBe(TOKEN_MESSAGES.format);
    const confused = hs256({ alg: 'RS256', typ: 'JWT' }, claims());
    expect(await failure(confused)).toBe(TOKEN_MESSAGES.format);
  });

  it('refuses a token signed with another secret, or with an unknown kid', async () => {
    expect(await failure(hs256(header, claims(), OTHER))).toBe(TOKEN_MESSAGES.signature);
    expect(await failure(hs256({ ...header, kid: 'kunknown' }, claims()))).toBe(TOKEN_MESSAGES.signature);
  });

  it('refuses a tampered payload carrying the original signature', async () => {
    const token = hs256(header, claims());
    const [h, , s] = token.split('.');
    expect(await failure(`${h}.${b64(claims({ role: 'owner' }))}.${s}`)).toBe(TOKEN_MESSAGES.signature);
  });

  it('refuses a wrong issuer, audience, or an expired token', async () => {
    expect(await failure(hs256(header, claims({ iss: 'someone-else' })))).toBe(TOKEN_MESSAGES.issuer);
    expect(await failure(hs256(header, claims({ aud: 'other-api' })))).toBe(TOKEN_MESSAGES.audience);
    expect(await failure(hs256(header, claims({ exp: nowS - 61 })))).toBe(TOKEN_MESSAGES.expired);
  });

  it('allows 60 seconds of clock skew and no more', async () => {
    await expect(verifyToken(hs256(header, claims({ exp: nowS - 59 })), keyring, NOW)).resolves.toBeDefined();
    await expect(verifyToken(hs256(header, claims({ nbf: nowS + 59 })), keyring, NOW)).resolves.toBeDefined();
    await expect(verifyToken(hs256(header, claims({ iat: nowS + 59 })), keyring, NOW)).resolves.toBeDefined();
    expect(await failure(hs256(header, claims({ nbf: nowS + 61 })))).toBe(TOKEN_MESSAGES.format);
  });

  it('accepts a lifetime of exactly the cap, and follows JWT_MAX_TTL_SECONDS', async () => {
    await expect(
      verifyToken(hs256(header, claims({ exp: nowS + 86400 })), keyring, NOW),
    ).resolves.toBeDefined();
    process.env[MAX_TTL_ENV] = '3600';
    try {
      expect(await failure(hs256(header, claims({ exp: nowS + 3601 })))).toBe(TOKEN_MESSAGES.format);
      await expect(
        verifyToken(hs256(header, claims({ exp: nowS + 3600 })), keyring, NOW),
      ).resolves.toBeDefined();
    } finally {
      delete process.env[MAX_TTL_ENV];
    }
  });

  it('accepts a token without kid with the current secret', async () => {
    const { kid: _kid, ...noKid } = header;
    await expect(verifyToken(hs256(noKid, claims()), keyring, NOW)).resolves.toBeDefined();
  });
});

describe('signToken', () => {
  it('refuses lifetimes outside 1 s .. 24 h', async () => {
    const c = { sub: 's', org_id: 't', role: 'viewer' as const };
    await expect(signToken(keyring, c, 0)).rejects.toThrow(RangeError);
    await expect(signToken(keyring, c, 24 * 3600 + 1)).rejects.toThrow(RangeError);
    await expect(signToken(keyring, c, 1.5)).rejects.toThrow(RangeError);
    expect(API_TOKEN_SECONDS).toBe(900);
  });

  it('signs within JWT_MAX_TTL_SECONDS when it is set lower', async () => {
    const c = { sub: 's', org_id: 't', role: 'viewer' as const };
    process.env[MAX_TTL_ENV] = '600';
    try {
      await expect(signToken(keyring, c, 601)).rejects.toThrow('1..600');
      await expect(signToken(keyring, c, 600)).resolves.toMatch(/^ey/);
    } finally {
      delete process.env[MAX_TTL_ENV];
    }
  });
});

describe('maxTokenSeconds', () => {
  it('defaults to a day and refuses what is not a positive whole number', () => {
    expect(maxTokenSeconds({})).toBe(86400);
    expect(maxTokenSeconds({ [MAX_TTL_ENV]: '' })).toBe(86400);
    expect(maxTokenSeconds({ [MAX_TTL_ENV]: '900' })).toBe(900);
    for (const bad of ['0', '-5', '1.5', '1e3', 'day', '99999999999999999999']) {
      expect(() => maxTokenSeconds({ [MAX_TTL_ENV]: bad })).toThrow(ConfigurationError);
    }
  });
});

describe('keyring and rotation', () => {
  it('refuses short or missing secrets', () => {
    expect(() => parseKeyring('short')).toThrow(ConfigurationError);
    expect(() => parseKeyring('{"current": 5}')).toThrow('at least 32 bytes');
    expect(() => parseKeyring('{oops')).toThrow('does not parse');
    expect(() =>
      parseKeyring(JSON.stringify({ current: SECRET, previous: OTHER, previous_expires_at: 'x' })),
    ).toThrow('epoch seconds');
  });

  it('names keys by a fingerprint that is not the secret', () => {
    expect(kidOf(SECRET)).toMatch(/^k[0-9a-f]{16}$/);
    expect(kidOf(SECRET)).not.toBe(kidOf(OTHER));
    expect(kidOf(SECRET)).not.toContain(SECRET.slice(0, 6));
  });

  it('verifies tokens of the previous secret during the window only', async () => {
    const oldToken = await signToken(keyring, { sub: 's', org_id: 't', role: 'viewer' }, 3600, NOW);
    const rotated = parseKeyring(rotatedValue(SECRET, 1800, nowS, OTHER));
    expect(rotated.current.kid).toBe(kidOf(OTHER));
    expect(rotated.previous?.kid).toBe(kidOf(SECRET));
    await expect(verifyToken(oldToken, rotated, NOW + 1000)).resolves.toMatchObject({ tenantId: 't' });
    expect(await failure(oldToken, rotated, NOW + 1801 * 1000)).toBe(TOKEN_MESSAGES.signature);
    const newToken = await signToken(rotated, { sub: 's', org_id: 't', role: 'viewer' }, 60, NOW);
    await expect(verifyToken(newToken, rotated, NOW)).resolves.toBeDefined();
  });

  it('rotates again from the JSON form, dropping the oldest secret', () => {
    const third = 'third-secret-0123456789-abcdefghijklmnopqrstu';
    const once = rotatedValue(SECRET, 60, nowS, OTHER);
    const twice = parseKeyring(rotatedValue(once, 60, nowS, third));
    expect(twice.current.kid).toBe(kidOf(third));
    expect(twice.previous?.kid).toBe(kidOf(OTHER));
    expect(keyFor(twice, kidOf(SECRET), nowS)).toBeUndefined();
    expect(() => rotatedValue(SECRET, 60, nowS, 'tiny')).toThrow('new secret');
  });
});
