import * as crypto from 'node:crypto';
import { createHash, createHmac, generateKeyPairSync, sign } from 'node:crypto';
import fc from 'fast-check';
import { GHL_PUBLISHED_WEBHOOK_PUBLIC_KEY } from '../../contract/ghl';
import {
  generateWebhookToken,
  ghlPublicKey,
  hashToken,
  safeEqual,
  verifyGhl,
  verifyShopify,
  verifyStripe,
  verifyWooCommerce,
  wooCommerceSigningKey,
} from '../../functions/shared/features/webhooks/rules/signatures';

jest.mock('node:crypto', () => {
  const actual = jest.requireActual<typeof import('node:crypto')>('node:crypto');
  return { ...actual, timingSafeEqual: jest.fn(actual.timingSafeEqual) };
});
const timingSafeEqual = crypto.timingSafeEqual as jest.MockedFunction<typeof crypto.timingSafeEqual>;

const base64Hmac = (secret: string, body: Buffer | string) =>
  createHmac('sha256', secret).update(body).digest('base64');

beforeEach(() => timingSafeEqual.mockClear());

describe('Shopify', () => {
  // The vector of Shopify's own library tests (shopify-api-js): note the space in the body.
  const secret = 'test_secret_key';
  const body = Buffer.from('{"foo": "bar"}', 'utf8');
  const header = 'B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=';

  it("verifies Shopify's published test vector", () => {
    expect(verifyShopify(body, header, secret)).toBe(true);
    expect(timingSafeEqual).toHaveBeenCalledTimes(1);
  });

  it('tolerates whitespace around the header value', () => {
    expect(verifyShopify(body, ` ${header}\t`, secret)).toBe(true);
  });

  it('fails when one byte of the body changed', () => {
    const changed = Buffer.from(body);
    changed[2] = (changed[2] as number) ^ 0x01;
    expect(verifyShopify(changed, header, secret)).toBe(false);
    expect(verifyShopify(Buffer.from('{"foo":"bar"}'), header, secret)).toBe(false);
  });

  it('fails for a hex digest of the right HMAC', () => {
    const hex = createHmac('sha256', secret).update(body).digest('hex');
    expect(verifyShopify(body, hex, secret)).toBe(false);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['blank', '   '],
    ['truncated', header.slice(0, 40)],
    ['too long', `${header}AAAA`],
    ['unpadded', header.slice(0, -1)],
    ['url-safe alphabet', header.replace(/\+/g, '-').replace(/\//g, '_').replace('X', '-')],
    ['not base64', '!'.repeat(44)],
  ])('fails for a %s header', (_case, value) => {
    expect(verifyShopify(body, value, secret)).toBe(false);
  });

  it('fails with a wrong or empty secret', () => {
    expect(verifyShopify(body, header, 'test_secret_kez')).toBe(false);
    expect(verifyShopify(body, base64Hmac('', body), '')).toBe(false);
  });

  it('never throws on garbage', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 256 }),
        fc.option(fc.string()),
        fc.string(),
        (bytes, value, key) => {
          expect(typeof verifyShopify(Buffer.from(bytes), value ?? undefined, key)).toBe('boolean');
        },
      ),
    );
    expect(verifyShopify('not a buffer' as unknown as Buffer, header, secret)).toBe(false);
    expect(verifyShopify(body, 42 as unknown as string, secret)).toBe(false);
  });
});

describe('WooCommerce', () => {
  const secret = 'wc-secret-0123456789';
  const body = Buffer.from(
    JSON.stringify({
      id: 727,
      status: 'processing',
      billing: { first_name: 'Zoë', email: 'zoe@example.com' },
    }),
    'utf8',
  );
  const header = base64Hmac(secret, body);

  it('round-trips base64 HMAC-SHA256 of the raw body', () => {
    expect(verifyWooCommerce(body, header, secret)).toBe(true);
    expect(timingSafeEqual).toHaveBeenCalledTimes(1);
  });

  it('fails for a changed body, a wrong secret, a hex digest, a missing or empty header', () => {
    expect(verifyWooCommerce(Buffer.concat([body, Buffer.from(' ')]), header, secret)).toBe(false);
    expect(verifyWooCommerce(body, header, `${secret}x`)).toBe(false);
    expect(verifyWooCommerce(body, createHmac('sha256', secret).update(body).digest('hex'), secret)).toBe(
      false,
    );
    expect(verifyWooCommerce(body, undefined, secret)).toBe(false);
    expect(verifyWooCommerce(body, '', secret)).toBe(false);
    expect(verifyWooCommerce(body, header, '')).toBe(false);
  });

  it('signs with the secret as WordPress decodes it (wp_specialchars_decode, ENT_QUOTES)', () => {
    const signed = base64Hmac('a&b<c>"d\'e', body);
    expect(verifyWooCommerce(body, signed, 'a&amp;b&lt;c&gt;&quot;d&#039;e')).toBe(true);
    expect(verifyWooCommerce(body, signed, 'a&b<c>"d\'e')).toBe(true);
  });

  it.each([
    ['plain', 'plain'],
    ['a&amp;b', 'a&b'],
    ['&amp;lt;', '&lt;'],
    ['&#39;&#x27;&#X27;&#0039;', "''''"],
    ['&#34;&#x22;&#38;&#x26;&#60;&#62;', '""&&<>'],
    ['&copy; &AMP; &#65;', '&copy; &AMP; &#65;'],
  ])('decodes %j as %j', (stored, key) => {
    expect(wooCommerceSigningKey(stored)).toBe(key);
  });
});

describe('Stripe', () => {
  const secret = 'whsec_test_0123456789abcdef';
  const body = Buffer.from('{"id":"evt_1","type":"invoice.paid"}', 'utf8');
  const now = 1_767_225_600;
  const v1 = (t: number | string, key = secret, payload: Buffer = body) =>
    createHmac('sha256', key)
      .update(Buffer.concat([Buffer.from(`${t}.`), payload]))
      .digest('hex');

  it('accepts a correct signature and answers its timestamp', () => {
    expect(verifyStripe(body, `t=${now},v1=${v1(now)}`, secret, now)).toEqual({ ok: true, timestamp: now });
    expect(timingSafeEqual).toHaveBeenCalled();
  });

  it('accepts when any one of several v1 values matches, and ignores v0', () => {
    const header = `t=${now},v1=${v1(now, 'whsec_old')},v1=${v1(now)},v0=${v1(now, 'legacy')}`;
    expect(verifyStripe(body, header, secret, now)).toEqual({ ok: true, timestamp: now });
    // Both v1 values were compared, not only until the first match.
    expect(timingSafeEqual).toHaveBeenCalledTimes(2);
  });

  it('tolerates whitespace around elements', () => {
    expect(verifyStripe(body, ` t = ${now} ,  v1=${v1(now)} `, secret, now)).toEqual({
      ok: true,
      timestamp: now,
    });
  });

  it('rejects a genuine signature outside the tolerance, old or future', () => {
    const old = now - 301;
    const future = now + 301;
    expect(verifyStripe(body, `t=${old},v1=${v1(old)}`, secret, now)).toEqual({
      ok: false,
      reason: 'too_old',
    });
    expect(verifyStripe(body, `t=${future},v1=${v1(future)}`, secret, now)).toEqual({
      ok: false,
      reason: 'future',
    });
    expect(verifyStripe(body, `t=${now - 300},v1=${v1(now - 300)}`, secret, now).ok).toBe(true);
    expect(verifyStripe(body, `t=${now + 300},v1=${v1(now + 300)}`, secret, now).ok).toBe(true);
    expect(verifyStripe(body, `t=${old},v1=${v1(old)}`, secret, now, 600).ok).toBe(true);
  });

  it('falls back to the default tolerance for an unusable one, and fails without a clock', () => {
    const old = now - 301;
    expect(verifyStripe(body, `t=${old},v1=${v1(old)}`, secret, now, Number.NaN)).toEqual({
      ok: false,
      reason: 'too_old',
    });
    expect(verifyStripe(body, `t=${now},v1=${v1(now)}`, secret, now, -5).ok).toBe(true);
    expect(verifyStripe(body, `t=${now},v1=${v1(now)}`, secret, Number.NaN)).toEqual({
      ok: false,
      reason: 'too_old',
    });
  });

  it('answers no_v1 when only v0 (or no scheme) is present', () => {
    expect(verifyStripe(body, `t=${now},v0=${v1(now)}`, secret, now)).toEqual({ ok: false, reason: 'no_v1' });
    expect(verifyStripe(body, `t=${now}`, secret, now)).toEqual({ ok: false, reason: 'no_v1' });
  });

  it.each([
    ['no timestamp', `v1=${'a'.repeat(64)}`],
    ['a non-numeric timestamp', `t=soon,v1=${'a'.repeat(64)}`],
    ['a negative timestamp', `t=-5,v1=${'a'.repeat(64)}`],
    ['two timestamps', `t=1,t=2,v1=${'a'.repeat(64)}`],
    ['garbage', 'garbage'],
    ['only commas', ',,,'],
  ])('answers malformed for %s', (_case, header) => {
    expect(verifyStripe(body, header, secret, now)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('answers missing for an absent or blank header', () => {
    expect(verifyStripe(body, undefined, secret, now)).toEqual({ ok: false, reason: 'missing' });
    expect(verifyStripe(body, '  ', secret, now)).toEqual({ ok: false, reason: 'missing' });
  });

  it('answers mismatch for a wrong secret, a changed body, a short or non-hex v1, an empty secret', () => {
    const reason = { ok: false, reason: 'mismatch' };
    expect(verifyStripe(body, `t=${now},v1=${v1(now, 'whsec_wrong')}`, secret, now)).toEqual(reason);
    expect(verifyStripe(Buffer.from('{}'), `t=${now},v1=${v1(now)}`, secret, now)).toEqual(reason);
    expect(verifyStripe(body, `t=${now},v1=${v1(now).slice(0, 62)}`, secret, now)).toEqual(reason);
    expect(verifyStripe(body, `t=${now},v1=${'z'.repeat(64)}`, secret, now)).toEqual(reason);
    expect(verifyStripe(body, `t=${now},v1=${v1(now, '')}`, '', now)).toEqual(reason);
    // A different timestamp is a different signed payload.
    expect(verifyStripe(body, `t=${now + 1},v1=${v1(now)}`, secret, now)).toEqual(reason);
    expect(timingSafeEqual).toHaveBeenCalled();
  });

  it('never throws on garbage', () => {
    fc.assert(
      fc.property(fc.option(fc.string()), fc.uint8Array({ maxLength: 64 }), (header, bytes) => {
        const result = verifyStripe(Buffer.from(bytes), header ?? undefined, secret, now);
        expect(result.ok).toBe(false);
      }),
    );
  });
});

describe('GoHighLevel', () => {
  // HighLevel signs the raw body with Ed25519 and sends the base64 signature in X-GHL-Signature
  // (https://marketplace.gohighlevel.com/docs/webhook/WebhookIntegrationGuide/). Tests sign with a
  // key pair of their own, configured the two ways HighLevel's key may be given.
  const ed = generateKeyPairSync('ed25519');
  const pem = ed.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const der = ed.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  const body = Buffer.from(
    JSON.stringify({ type: 'ContactCreate', timestamp: '2026-01-28T14:35:00Z', webhookId: 'abc123' }),
    'utf8',
  );
  const signature = sign(null, body, ed.privateKey).toString('base64');

  it('verifies an Ed25519 signature with the key as PEM or as base64 DER SPKI', () => {
    expect(verifyGhl(body, signature, pem)).toBe('verified');
    expect(verifyGhl(body, `  ${signature}\n`, pem)).toBe('verified');
    expect(verifyGhl(body, signature, der)).toBe('verified');
    expect(verifyGhl(body, signature, ` ${der}\n`)).toBe('verified');
    // A PEM pasted into an environment variable with literal \n for its line breaks.
    expect(verifyGhl(body, signature, pem.replace(/\n/g, '\\n'))).toBe('verified');
  });

  it("accepts HighLevel's published key as a usable Ed25519 key", () => {
    expect(ghlPublicKey(GHL_PUBLISHED_WEBHOOK_PUBLIC_KEY)?.asymmetricKeyType).toBe('ed25519');
    // Well-formed but not HighLevel's signature: refused.
    expect(verifyGhl(body, signature, GHL_PUBLISHED_WEBHOOK_PUBLIC_KEY)).toBe('invalid');
  });

  it('answers invalid for a tampered body or another key', () => {
    const tampered = Buffer.from(body.toString('utf8').replace('abc123', 'abc124'), 'utf8');
    expect(verifyGhl(tampered, signature, pem)).toBe('invalid');
    const other = generateKeyPairSync('ed25519');
    const otherPem = other.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(verifyGhl(body, signature, otherPem)).toBe('invalid');
    expect(verifyGhl(Buffer.from('{}'), signature, pem)).toBe('invalid');
  });

  it('answers absent when a key is configured but no signature arrived', () => {
    expect(verifyGhl(body, undefined, pem)).toBe('absent');
    expect(verifyGhl(body, ' ', pem)).toBe('absent');
  });

  it('answers not_configured without a key, whatever the header', () => {
    expect(verifyGhl(body, signature, undefined)).toBe('not_configured');
    expect(verifyGhl(body, undefined, '')).toBe('not_configured');
    expect(verifyGhl(body, signature, '  ')).toBe('not_configured');
  });

  it('no longer accepts the retired RSA scheme: an RSA key is unusable, an RSA signature invalid', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rsaPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const rsaSignature = sign('sha256', body, rsa.privateKey).toString('base64');
    expect(ghlPublicKey(rsaPem)).toBeUndefined();
    expect(verifyGhl(body, rsaSignature, rsaPem)).toBe('invalid');
    expect(verifyGhl(body, rsaSignature, pem)).toBe('invalid');
  });

  it('fails closed on a malformed signature, an unusable key or a non-buffer body', () => {
    expect(verifyGhl(body, 'not base64!', pem)).toBe('invalid');
    expect(verifyGhl(body, 'AAAA', pem)).toBe('invalid');
    expect(verifyGhl(body, Buffer.alloc(64).toString('base64'), pem)).toBe('invalid');
    expect(verifyGhl(body, signature, 'not a key')).toBe('invalid');
    expect(verifyGhl(body, signature, 'QUJD')).toBe('invalid');
    expect(verifyGhl(body, signature, '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----')).toBe(
      'invalid',
    );
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const ecPem = ec.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(verifyGhl(body, sign('sha256', body, ec.privateKey).toString('base64'), ecPem)).toBe('invalid');
    expect(verifyGhl('body' as unknown as Buffer, signature, pem)).toBe('invalid');
  });

  it('never throws and never verifies arbitrary headers and bodies', () => {
    fc.assert(
      fc.property(fc.option(fc.string()), fc.uint8Array({ maxLength: 64 }), (header, bytes) => {
        expect(verifyGhl(Buffer.from(bytes), header ?? undefined, pem)).not.toBe('verified');
      }),
    );
  });
});

describe('GoHighLevel URL tokens', () => {
  it('hashes a token as SHA-256 hex', () => {
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hashToken('abc')).toBe(createHash('sha256').update('abc').digest('hex'));
  });

  it('generates 32 random bytes as base64url, different each time', () => {
    const tokens = new Set(Array.from({ length: 50 }, generateWebhookToken));
    expect(tokens.size).toBe(50);
    for (const token of tokens) {
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    }
  });
});

describe('timing safety', () => {
  it('compares only equal lengths, with timingSafeEqual, and never throws on different lengths', () => {
    expect(safeEqual(Buffer.from('abc'), Buffer.from('abcd'))).toBe(false);
    expect(timingSafeEqual).not.toHaveBeenCalled();
    expect(safeEqual(Buffer.from('abcd'), Buffer.from('abcd'))).toBe(true);
    expect(safeEqual(Buffer.from('abcd'), Buffer.from('abce'))).toBe(false);
    expect(timingSafeEqual).toHaveBeenCalledTimes(2);
  });

  it('never reaches a comparison for a header of the wrong shape', () => {
    const body = Buffer.from('{}');
    expect(verifyShopify(body, 'short', 's')).toBe(false);
    expect(verifyWooCommerce(body, 'a'.repeat(64), 's')).toBe(false);
    expect(timingSafeEqual).not.toHaveBeenCalled();
  });
});
