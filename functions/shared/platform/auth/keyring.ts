import { createHash, randomBytes } from 'node:crypto';
import { GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { secretsClient } from '../aws/clients';
import { ConfigurationError } from '../config/resources';
import { clearSecretCache, loadSecret, SECRET_CACHE_SECONDS } from '../config/secrets';

/**
 * The JWT signing secrets. Tokens are signed with the current secret and carry its `kid`;
 * after a rotation the previous secret keeps verifying tokens until the rotation window ends.
 *
 * Stored form (the `JWT_SECRET` value, or the Secrets Manager secret): either a plain secret
 * string, or JSON `{"current": "...", "previous": "...", "previous_expires_at": <epoch s>}`.
 */
export interface SigningKey {
  readonly kid: string;
  readonly secret: Uint8Array;
  /** Epoch seconds after which this (previous) key no longer verifies. */
  readonly notAfter?: number;
}

export interface Keyring {
  readonly current: SigningKey;
  readonly previous?: SigningKey;
}

export const MIN_SECRET_BYTES = 32;
/** How long a function keeps the fetched secret (SECRET_CACHE_SECONDS). */
export const KEYRING_CACHE_SECONDS = SECRET_CACHE_SECONDS;

interface StoredKeyring {
  current: string;
  previous?: string;
  previous_expires_at?: number;
}

/** A public fingerprint of a secret: names the key without revealing it. */
export function kidOf(secret: string): string {
  return `k${createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 16)}`;
}

function signingKey(secret: unknown, label: string, notAfter?: number): SigningKey {
  if (typeof secret !== 'string' || Buffer.byteLength(secret, 'utf8') < MIN_SECRET_BYTES) {
    throw new ConfigurationError(
      `JWT ${label} secret must be a string of at least ${MIN_SECRET_BYTES} bytes`,
    );
  }
  return { kid: kidOf(secret), secret: Buffer.from(secret, 'utf8'), ...(notAfter ? { notAfter } : {}) };
}

export function parseKeyring(value: string): Keyring {
  const trimmed = value.trim();
  if (!trimmed.startsWith('{')) return { current: signingKey(trimmed, 'current') };
  let stored: StoredKeyring;
  try {
    stored = JSON.parse(trimmed) as StoredKeyring;
  } catch {
    throw new ConfigurationError('JWT secret JSON does not parse');
  }
  const current = signingKey(stored.current, 'current');
  if (stored.previous === undefined) return { current };
  const expires = stored.previous_expires_at;
  if (expires !== undefined && (typeof expires !== 'number' || !Number.isFinite(expires))) {
    throw new ConfigurationError('previous_expires_at must be epoch seconds');
  }
  return { current, previous: signingKey(stored.previous, 'previous', expires) };
}

/** The key a token's `kid` names, if it may still verify at `nowSeconds`. */
export function keyFor(
  keyring: Keyring,
  kid: string | undefined,
  nowSeconds: number,
): SigningKey | undefined {
  if (kid === undefined || kid === keyring.current.kid) return keyring.current;
  const previous = keyring.previous;
  if (
    previous &&
    kid === previous.kid &&
    (previous.notAfter === undefined || nowSeconds <= previous.notAfter)
  ) {
    return previous;
  }
  return undefined;
}

export function generateSecret(): string {
  return randomBytes(48).toString('base64url');
}

/**
 * The stored value after a rotation: a new current secret, the old current one kept as previous
 * for `windowSeconds` (at least the longest token lifetime plus the function cache time).
 */
export function rotatedValue(
  stored: string,
  windowSeconds: number,
  nowSeconds: number,
  next = generateSecret(),
): string {
  const trimmed = stored.trim();
  const current = trimmed.startsWith('{') ? (JSON.parse(trimmed) as StoredKeyring).current : trimmed;
  signingKey(current, 'current');
  signingKey(next, 'new');
  const value: StoredKeyring = {
    current: next,
    previous: current,
    previous_expires_at: nowSeconds + windowSeconds,
  };
  return JSON.stringify(value);
}

/** Where the signing secret comes from: `JWT_SECRET`, else the Secrets Manager secret `JWT_SECRET_ARN`. */
export const JWT_SECRET_SOURCE = { plainEnv: 'JWT_SECRET', arnEnv: 'JWT_SECRET_ARN' } as const;

let parsed: { value: string; keyring: Keyring } | undefined;

/**
 * The keyring of this process: `JWT_SECRET` when set (local runs, tests), else the Secrets
 * Manager secret `JWT_SECRET_ARN`, fetched once and cached for a few minutes. No secret, no
 * keyring: callers fail closed.
 */
export async function loadKeyring(now: number = Date.now()): Promise<Keyring> {
  const value = await loadSecret(JWT_SECRET_SOURCE, now);
  if (parsed?.value !== value) parsed = { value, keyring: parseKeyring(value) };
  return parsed.keyring;
}

export function clearKeyringCache(): void {
  clearSecretCache();
  parsed = undefined;
}

/**
 * Rotates the Secrets Manager secret: a new current secret, the old one kept as previous for
 * `windowSeconds`. Functions pick the new keyring up within KEYRING_CACHE_SECONDS.
 */
export async function rotateStoredSecret(
  secretId: string,
  windowSeconds: number,
  now: number = Date.now(),
): Promise<{ currentKid: string; previousKid: string; previousExpiresAt: number }> {
  const client = secretsClient();
  const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (!out.SecretString) throw new ConfigurationError('JWT secret has no string value');
  const nowSeconds = Math.floor(now / 1000);
  const value = rotatedValue(out.SecretString, windowSeconds, nowSeconds);
  await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: value }));
  clearKeyringCache();
  const keyring = parseKeyring(value);
  return {
    currentKid: keyring.current.kid,
    previousKid: keyring.previous?.kid ?? '',
    previousExpiresAt: nowSeconds + windowSeconds,
  };
}
