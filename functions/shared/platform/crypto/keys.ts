import { DecryptCommand, GenerateDataKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { kmsClient } from '../aws/clients';

/**
 * Data keys from KMS and the encryption context they are bound to. Every encryption names what
 * it is for (`purpose`) and whose data it is (at least one more entry: a job id, a tenant and a
 * credential name, ...). KMS refuses to unwrap a data key under any other context, and the cipher
 * binds the ciphertext to the same context as additional authenticated data.
 */
export type EncryptionContext = Readonly<Record<string, string>> & { readonly purpose: string };

/** One error for every way a decryption can fail, so a caller cannot probe which part was wrong. */
export class DecryptionError extends Error {
  override readonly name = 'DecryptionError';
  constructor(
    message = 'The data could not be decrypted: wrong key, wrong context, or altered ciphertext',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const CONTEXT_KEY = /^[a-z][a-z0-9_]{0,63}$/;
const MAX_CONTEXT_VALUE = 1024;

/** Throws unless the context has a purpose, a scope beside it, and only simple non-empty entries. */
export function checkContext(context: EncryptionContext): EncryptionContext {
  const entries = Object.entries(context);
  if (typeof context.purpose !== 'string' || context.purpose === '') {
    throw new Error('An encryption context needs a purpose');
  }
  if (entries.length < 2) throw new Error('An encryption context needs a scope besides its purpose');
  for (const [key, value] of entries) {
    if (!CONTEXT_KEY.test(key))
      throw new Error(`Encryption context key ${JSON.stringify(key)} is not allowed`);
    if (typeof value !== 'string' || value === '' || value.length > MAX_CONTEXT_VALUE) {
      throw new Error(
        `Encryption context value of ${key} must be a non-empty string of at most 1024 characters`,
      );
    }
  }
  return context;
}

/** Canonical bytes of a context (entries sorted by key): the same context always gives the same bytes. */
export function contextBytes(context: EncryptionContext): Buffer {
  const entries = Object.keys(context)
    .sort()
    .map((key) => [key, context[key]]);
  return Buffer.from(JSON.stringify(entries), 'utf8');
}

export function sameContext(a: EncryptionContext, b: EncryptionContext): boolean {
  return contextBytes(a).equals(contextBytes(b));
}

export interface DataKey {
  /** The 32-byte AES key. Whoever receives it zeroes it (`fill(0)`) when done. */
  readonly plaintext: Buffer;
  /** The same key encrypted under the master key (KMS CiphertextBlob), stored with the ciphertext. */
  readonly wrapped: Buffer;
  /** The master key that wrapped it, as KMS names it (ARN): stored so keys can rotate or change. */
  readonly keyId: string;
}

export interface KeyProvider {
  generateDataKey(keyId: string, context: EncryptionContext): Promise<DataKey>;
  /**
   * The plaintext data key of `wrapped` (the caller zeroes it). DecryptionError when the wrapped
   * key, the master key or the context does not match.
   */
  decryptDataKey(wrapped: Uint8Array, keyId: string, context: EncryptionContext): Promise<Buffer>;
}

export const DATA_KEY_BYTES = 32;

/** KMS answers that mean "not this key, not this context, not this ciphertext". */
const KMS_REJECTIONS = new Set([
  'InvalidCiphertextException',
  'IncorrectKeyException',
  'NotFoundException',
  'AccessDeniedException',
  'ValidationException',
]);

function isRejection(error: unknown): boolean {
  return error instanceof Error && KMS_REJECTIONS.has(error.name);
}

/** A Buffer over the same memory, so zeroing it zeroes the SDK's copy too. */
const view = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** Data keys from AWS KMS (or the emulator's KMS): `GenerateDataKey` AES_256 and `Decrypt`. */
export class KmsKeyProvider implements KeyProvider {
  constructor(private readonly client?: KMSClient) {}

  private get kms(): KMSClient {
    return this.client ?? kmsClient();
  }

  async generateDataKey(keyId: string, context: EncryptionContext): Promise<DataKey> {
    const out = await this.kms.send(
      new GenerateDataKeyCommand({
        KeyId: keyId,
        KeySpec: 'AES_256',
        EncryptionContext: { ...checkContext(context) },
      }),
    );
    if (!out.Plaintext || !out.CiphertextBlob || !out.KeyId || out.Plaintext.byteLength !== DATA_KEY_BYTES) {
      out.Plaintext?.fill(0);
      throw new Error('KMS returned no usable data key');
    }
    return { plaintext: view(out.Plaintext), wrapped: Buffer.from(out.CiphertextBlob), keyId: out.KeyId };
  }

  async decryptDataKey(wrapped: Uint8Array, keyId: string, context: EncryptionContext): Promise<Buffer> {
    let plaintext: Uint8Array | undefined;
    try {
      const out = await this.kms.send(
        new DecryptCommand({
          CiphertextBlob: wrapped,
          KeyId: keyId,
          EncryptionContext: { ...checkContext(context) },
        }),
      );
      plaintext = out.Plaintext;
    } catch (error) {
      if (isRejection(error)) throw new DecryptionError(undefined, { cause: error });
      throw error;
    }
    if (!plaintext || plaintext.byteLength !== DATA_KEY_BYTES) {
      plaintext?.fill(0);
      throw new DecryptionError();
    }
    return view(plaintext);
  }
}

let defaultProvider: KeyProvider | undefined;

/** The KMS provider on the shared (lazily created) KMS client. */
export function kmsKeys(): KeyProvider {
  defaultProvider ??= new KmsKeyProvider();
  return defaultProvider;
}
