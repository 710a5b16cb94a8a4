import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  contextBytes,
  type DataKey,
  DecryptionError,
  type EncryptionContext,
  type KeyProvider,
} from '../../functions/shared/platform/crypto/keys';

/**
 * A KeyProvider for unit tests (no I/O) with KMS's guarantees: each master key wraps data keys
 * with AES-256-GCM, the key id and the encryption context as additional data, so a data key
 * only comes back under the same master key and the same context. Integration tests use KMS.
 */
export class MemoryKeyProvider implements KeyProvider {
  private readonly masters = new Map<string, Buffer>();
  /** Data keys handed out, to check that callers zero them. */
  readonly issued: Buffer[] = [];

  constructor(keyIds: readonly string[] = ['arn:aws:kms:us-east-1:000000000000:key/test-one']) {
    for (const id of keyIds) this.masters.set(id, randomBytes(32));
  }

  private master(keyId: string): Buffer {
    const key = this.masters.get(keyId);
    if (!key) {
      const error = new Error(`Key ${keyId} is not found`);
      error.name = 'NotFoundException';
      throw error;
    }
    return key;
  }

  private aad(keyId: string, context: EncryptionContext): Buffer {
    return Buffer.concat([Buffer.from(keyId), contextBytes(context)]);
  }

  async generateDataKey(keyId: string, context: EncryptionContext): Promise<DataKey> {
    const master = this.master(keyId);
    const plaintext = randomBytes(32);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', master, iv);
    cipher.setAAD(this.aad(keyId, context));
    const wrapped = Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    const handed = Buffer.from(plaintext);
    this.issued.push(handed);
    return { plaintext: handed, wrapped, keyId };
  }

  async decryptDataKey(wrapped: Uint8Array, keyId: string, context: EncryptionContext): Promise<Buffer> {
    const master = this.masters.get(keyId);
    const bytes = Buffer.from(wrapped);
    if (!master || bytes.length !== 12 + 32 + 16) throw new DecryptionError();
    try {
      const decipher = createDecipheriv('aes-256-gcm', master, bytes.subarray(0, 12));
      decipher.setAAD(this.aad(keyId, context));
      decipher.setAuthTag(bytes.subarray(44));
      const key = Buffer.concat([decipher.update(bytes.subarray(12, 44)), decipher.final()]);
      this.issued.push(key);
      return key;
    } catch (error) {
      throw new DecryptionError(undefined, { cause: error });
    }
  }
}

/** Every bit position of `bytes`, flipped one at a time. */
export function* bitFlips(bytes: Uint8Array): Generator<{ index: number; bit: number; flipped: Buffer }> {
  for (let index = 0; index < bytes.length; index++) {
    for (let bit = 0; bit < 8; bit++) {
      const flipped = Buffer.from(bytes);
      flipped[index] = (flipped[index] as number) ^ (1 << bit);
      yield { index, bit, flipped };
    }
  }
}
