import {
  createHash,
  createHmac,
  createPublicKey,
  type KeyObject,
  randomBytes,
  timingSafeEqual,
  verify as verifySignature,
} from 'node:crypto';

/**
 * Signature checks of webhook senders, over the raw body bytes exactly as received; no I/O here.
 * Every check answers a boolean or a small result and never throws, whatever arrives: a sender's
 * header is attacker-controlled input. Digests are compared with `timingSafeEqual`, after a length
 * check (different lengths are unequal without comparing), never with `===`.
 */

const SHA256_BYTES = 32;
/** Standard base64 of 32 bytes: 43 characters and one `=` of padding. */
const BASE64_SHA256 = /^[A-Za-z0-9+/]{43}=$/;
const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Constant-time equality of two byte strings; different lengths are unequal and nothing is compared. */
export function safeEqual(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

function usable(rawBody: unknown, secret: unknown): rawBody is Buffer {
  return Buffer.isBuffer(rawBody) && typeof secret === 'string' && secret.length > 0;
}

function hmacSha256(secret: string, ...parts: Buffer[]): Buffer {
  const hmac = createHmac('sha256', secret);
  for (const part of parts) hmac.update(part);
  return hmac.digest();
}

/** The 32 digest bytes of a base64 header value; undefined for hex, other lengths or other alphabets. */
function base64Digest(headerValue: unknown): Buffer | undefined {
  if (typeof headerValue !== 'string') return undefined;
  const value = headerValue.trim();
  if (!BASE64_SHA256.test(value)) return undefined;
  const digest = Buffer.from(value, 'base64');
  return digest.length === SHA256_BYTES ? digest : undefined;
}

/**
 * Shopify: `X-Shopify-Hmac-Sha256` is the plain base64 of HMAC-SHA256 over the raw body, keyed with
 * the app's (or the shop's webhook) secret. Hex digests, truncated values and empty headers fail.
 */
export function verifyShopify(rawBody: Buffer, headerValue: string | undefined, secret: string): boolean {
  if (!usable(rawBody, secret)) return false;
  const received = base64Digest(headerValue);
  if (!received) return false;
  return safeEqual(hmacSha256(secret, rawBody), received);
}

/** The entities PHP's `wp_specialchars_decode($text, ENT_QUOTES)` turns back into characters. */
const WP_ENTITY = /&(?:lt|gt|quot|amp|#0*(?:34|38|39|60|62)|#[xX]0*(?:22|26|27));/g;
const NAMED_ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', quot: '"', amp: '&' };

/**
 * The key WooCommerce signs with: `wp_specialchars_decode(secret, ENT_QUOTES)`. A secret pasted the
 * way WordPress stores it (`a&amp;b`) and the same secret as typed (`a&b`) both give `a&b`, as in
 * WooCommerce. One pass, like PHP's `strtr`: `&amp;lt;` becomes `&lt;`, not `<`.
 */
export function wooCommerceSigningKey(secret: string): string {
  if (!secret.includes('&')) return secret;
  return secret.replace(WP_ENTITY, (entity) => {
    const body = entity.slice(1, -1);
    const named = NAMED_ENTITIES[body];
    if (named) return named;
    const hex = body[1] === 'x' || body[1] === 'X';
    return String.fromCharCode(Number.parseInt(body.slice(hex ? 2 : 1), hex ? 16 : 10));
  });
}

/**
 * WooCommerce: `X-WC-Webhook-Signature` is `base64_encode(hash_hmac('sha256', $payload,
 * wp_specialchars_decode($secret, ENT_QUOTES), true))` over the body as sent (WC_Webhook::
 * generate_signature). A store that filters `woocommerce_webhook_hash_algorithm` to another hash
 * fails here on purpose: only SHA-256 is accepted.
 */
export function verifyWooCommerce(rawBody: Buffer, headerValue: string | undefined, secret: string): boolean {
  if (!usable(rawBody, secret)) return false;
  const received = base64Digest(headerValue);
  if (!received) return false;
  return safeEqual(hmacSha256(wooCommerceSigningKey(secret), rawBody), received);
}

export const STRIPE_DEFAULT_TOLERANCE_SECONDS = 300;

export type StripeFailure = 'missing' | 'malformed' | 'no_v1' | 'mismatch' | 'too_old' | 'future';
export type StripeVerification = { ok: true; timestamp: number } | { ok: false; reason: StripeFailure };

const STRIPE_TIMESTAMP = /^\d{1,12}$/;

/**
 * Stripe: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...][,v0=<hex>]`. The signed
 * payload is `<t>.<raw body>`, HMAC-SHA256 with the endpoint's signing secret, hex; any `v1` may
 * match (several are sent while a secret is rolled). Whitespace around elements is tolerated,
 * other schemes (`v0`) are ignored. The signature is checked before the timestamp, so `too_old` and
 * `future` only ever describe a genuine Stripe signature (a replay or a skewed clock).
 */
export function verifyStripe(
  rawBody: Buffer,
  header: string | undefined,
  secret: string,
  nowSeconds: number,
  toleranceSeconds = STRIPE_DEFAULT_TOLERANCE_SECONDS,
): StripeVerification {
  if (typeof header !== 'string' || header.trim() === '') return { ok: false, reason: 'missing' };
  let timestamp: string | undefined;
  const v1: string[] = [];
  for (const element of header.split(',')) {
    const at = element.indexOf('=');
    if (at < 0) continue;
    const key = element.slice(0, at).trim();
    const value = element.slice(at + 1).trim();
    if (key === 't') {
      if (timestamp !== undefined) return { ok: false, reason: 'malformed' };
      timestamp = value;
    } else if (key === 'v1') {
      v1.push(value);
    }
  }
  if (timestamp === undefined || !STRIPE_TIMESTAMP.test(timestamp)) return { ok: false, reason: 'malformed' };
  if (v1.length === 0) return { ok: false, reason: 'no_v1' };
  if (!usable(rawBody, secret)) return { ok: false, reason: 'mismatch' };

  const expected = hmacSha256(secret, Buffer.from(`${timestamp}.`, 'utf8'), rawBody);
  let matched = false;
  for (const candidate of v1) {
    if (!HEX_SHA256.test(candidate)) continue;
    // Every candidate is compared, so the time taken does not say which one matched.
    matched = safeEqual(expected, Buffer.from(candidate, 'hex')) || matched;
  }
  if (!matched) return { ok: false, reason: 'mismatch' };

  const signedAt = Number(timestamp);
  const tolerance =
    Number.isFinite(toleranceSeconds) && toleranceSeconds >= 0
      ? toleranceSeconds
      : STRIPE_DEFAULT_TOLERANCE_SECONDS;
  if (!Number.isFinite(nowSeconds) || nowSeconds - signedAt > tolerance)
    return { ok: false, reason: 'too_old' };
  if (signedAt - nowSeconds > tolerance) return { ok: false, reason: 'future' };
  return { ok: true, timestamp: signedAt };
}

export type GhlVerification = 'verified' | 'not_configured' | 'absent' | 'invalid';

/** An Ed25519 signature is 64 bytes: 86 base64 characters and `==`. */
const ED25519_SIGNATURE_BYTES = 64;
const PEM = /-----BEGIN PUBLIC KEY-----/;

/**
 * HighLevel's public key as configured: a PEM `PUBLIC KEY`, or the base64 of its DER SPKI (the form
 * HighLevel prints, `MCowBQYDK2VwAyEA...`). Only an Ed25519 key is usable; anything else is
 * undefined, which the check treats as a failure, never as "not configured".
 */
export function ghlPublicKey(configured: string): KeyObject | undefined {
  try {
    const text = configured.trim().replace(/\\n/g, '\n');
    const key = PEM.test(text)
      ? createPublicKey(text)
      : BASE64.test(text)
        ? createPublicKey({ key: Buffer.from(text, 'base64'), format: 'der', type: 'spki' })
        : undefined;
    return key?.asymmetricKeyType === 'ed25519' ? key : undefined;
  } catch {
    return undefined;
  }
}

let parsedKey: { configured: string; key: KeyObject | undefined } | undefined;

/** The configured key, parsed once per value (the environment does not change in a warm container). */
function cachedGhlKey(configured: string): KeyObject | undefined {
  if (parsedKey?.configured !== configured) parsedKey = { configured, key: ghlPublicKey(configured) };
  return parsedKey.key;
}

/**
 * GoHighLevel: `X-GHL-Signature` is the base64 Ed25519 signature of the raw body, made with
 * HighLevel's private key and checked with the public key HighLevel publishes
 * (`GHL_WEBHOOK_PUBLIC_KEY`, PEM or base64 DER SPKI). The RSA `X-WH-Signature`, retired by
 * HighLevel on 2026-07-01, is not read at all: the caller passes only `X-GHL-Signature`.
 * - `not_configured`: no public key configured, nothing was checked;
 * - `absent`: a key is configured but the request carries no signature;
 * - `invalid`: the signature is malformed or does not verify, or the configured key is not an
 *   Ed25519 public key (fail closed: a broken key never counts as "not configured").
 */
export function verifyGhl(
  rawBody: Buffer,
  signatureBase64: string | undefined,
  publicKey: string | undefined,
): GhlVerification {
  if (typeof publicKey !== 'string' || publicKey.trim() === '') return 'not_configured';
  if (typeof signatureBase64 !== 'string' || signatureBase64.trim() === '') return 'absent';
  const encoded = signatureBase64.trim();
  if (!BASE64.test(encoded) || !Buffer.isBuffer(rawBody)) return 'invalid';
  const signature = Buffer.from(encoded, 'base64');
  if (signature.length !== ED25519_SIGNATURE_BYTES) return 'invalid';
  const key = cachedGhlKey(publicKey);
  if (!key) return 'invalid';
  try {
    return verifySignature(null, rawBody, key, signature) ? 'verified' : 'invalid';
  } catch {
    return 'invalid';
  }
}

/**
 * GoHighLevel webhooks are addressed to `/api/v1/ghl/webhook/{token}`: a per-tenant URL token,
 * shown once and stored only as its SHA-256 (hex), by which the tenant is looked up. The token has
 * 256 bits of entropy, so an unkeyed hash is enough.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new URL token: 32 random bytes, base64url (43 characters, safe in a path segment). */
export function generateWebhookToken(): string {
  return randomBytes(32).toString('base64url');
}
