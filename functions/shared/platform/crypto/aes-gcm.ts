import { createCipheriv, createDecipheriv } from 'node:crypto';
import { DATA_KEY_BYTES, DecryptionError } from './keys';

/** AES-256-GCM with a 96-bit IV and a full 128-bit tag; a shorter tag is never accepted. */
export const IV_BYTES = 12;
export const TAG_BYTES = 16;
const ALGORITHM = 'aes-256-gcm';

function checkKey(key: Uint8Array, iv: Uint8Array): void {
  if (key.byteLength !== DATA_KEY_BYTES) throw new Error('AES-256-GCM needs a 32-byte key');
  if (iv.byteLength !== IV_BYTES) throw new Error('AES-256-GCM needs a 12-byte IV');
}

export function gcmEncrypt(
  key: Uint8Array,
  iv: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
): { ciphertext: Buffer; tag: Buffer } {
  checkKey(key, iv);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { ciphertext, tag: cipher.getAuthTag() };
}

/** The plaintext, or DecryptionError when the tag does not verify (wrong key, IV, AAD or bytes). */
export function gcmDecrypt(
  key: Uint8Array,
  iv: Uint8Array,
  aad: Uint8Array,
  ciphertext: Uint8Array,
  tag: Uint8Array,
): Buffer {
  checkKey(key, iv);
  if (tag.byteLength !== TAG_BYTES) throw new DecryptionError();
  const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  const plaintext = decipher.update(ciphertext);
  try {
    return Buffer.concat([plaintext, decipher.final()]);
  } catch (error) {
    plaintext.fill(0);
    throw new DecryptionError(undefined, { cause: error });
  }
}
