import { createHmac } from 'node:crypto';
import { ConfigurationError } from '../../../platform/config/resources';
import { loadSecret } from '../../../platform/config/secrets';

/** Key of the email hash: `EMAIL_HASH_KEY`, else the Secrets Manager secret `EMAIL_HASH_KEY_ARN`. */
export const EMAIL_HASH_KEY_SOURCE = { plainEnv: 'EMAIL_HASH_KEY', arnEnv: 'EMAIL_HASH_KEY_ARN' } as const;
const MIN_KEY_BYTES = 32;

export type EmailHasher = (tenantId: string, normalisedEmail: string) => string;

/**
 * Emails are looked up by a keyed hash (HMAC-SHA256) of the normalised address, bound to the
 * tenant: the index never holds an address, the hash cannot be reversed by guessing without the
 * key, and the same person in two tenants has two unrelated hashes.
 */
export function hasherFor(key: string): EmailHasher {
  if (Buffer.byteLength(key, 'utf8') < MIN_KEY_BYTES) {
    throw new ConfigurationError(`The email hash key must be at least ${MIN_KEY_BYTES} bytes`);
  }
  return (tenantId, email) => createHmac('sha256', key).update(`${tenantId}\n${email}`, 'utf8').digest('hex');
}

export async function loadEmailHasher(): Promise<EmailHasher> {
  return hasherFor(await loadSecret(EMAIL_HASH_KEY_SOURCE));
}
