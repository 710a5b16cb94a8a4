import { randomBytes } from 'node:crypto';
import { gcmDecrypt, gcmEncrypt, IV_BYTES, TAG_BYTES } from './aes-gcm';
import {
  checkContext,
  contextBytes,
  DecryptionError,
  type EncryptionContext,
  type KeyProvider,
  kmsKeys,
} from './keys';

/**
 * Envelope encryption of one value (a credential, a small document): a fresh KMS data key per
 * envelope, AES-256-GCM with a fresh random 96-bit IV, and everything needed to decrypt stored
 * with the ciphertext, in a versioned binary layout:
 *
 *   "AEEV" | version (1 byte) | key id length (u16) | key id (UTF-8, the KMS key ARN)
 *          | wrapped key length (u16) | wrapped data key | IV (12) | ciphertext | tag (16)
 *
 * The additional authenticated data is every byte before the ciphertext plus the canonical
 * encryption context, so changing the version, key id, wrapped key or IV, or opening under
 * another context, fails the tag as surely as changing the ciphertext does. The data key is
 * zeroed as soon as the cipher has it.
 */
export const ENVELOPE_VERSION = 1;
const MAGIC = Buffer.from('AEEV', 'ascii');
const MAX_FIELD = 0xffff;

export interface SealOptions {
  /** The KMS key (id, ARN or alias) that wraps the data key. */
  readonly keyId: string;
  readonly keys?: KeyProvider;
}

export interface OpenOptions {
  readonly keys?: KeyProvider;
}

export interface SealedEnvelope {
  readonly version: number;
  readonly keyId: string;
  readonly wrappedKey: Buffer;
  readonly iv: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
  /** The bytes before the ciphertext (authenticated with the context). */
  readonly header: Buffer;
}

function u16(n: number): Buffer {
  const out = Buffer.alloc(2);
  out.writeUInt16BE(n);
  return out;
}

function headerOf(keyId: string, wrappedKey: Uint8Array, iv: Uint8Array): Buffer {
  const id = Buffer.from(keyId, 'utf8');
  if (id.length > MAX_FIELD || wrappedKey.byteLength > MAX_FIELD)
    throw new Error('key id or wrapped key too long');
  return Buffer.concat([
    MAGIC,
    Buffer.of(ENVELOPE_VERSION),
    u16(id.length),
    id,
    u16(wrappedKey.byteLength),
    wrappedKey,
    iv,
  ]);
}

const aadOf = (header: Buffer, context: EncryptionContext) => Buffer.concat([header, contextBytes(context)]);

export async function seal(
  plaintext: Uint8Array,
  context: EncryptionContext,
  options: SealOptions,
): Promise<Buffer> {
  checkContext(context);
  const keys = options.keys ?? kmsKeys();
  const dataKey = await keys.generateDataKey(options.keyId, context);
  try {
    const iv = randomBytes(IV_BYTES);
    const header = headerOf(dataKey.keyId, dataKey.wrapped, iv);
    const { ciphertext, tag } = gcmEncrypt(dataKey.plaintext, iv, aadOf(header, context), plaintext);
    return Buffer.concat([header, ciphertext, tag]);
  } finally {
    dataKey.plaintext.fill(0);
  }
}

/** Reads the layout; DecryptionError when it is not a complete envelope of a known version. */
export function parseSealed(bytes: Uint8Array): SealedEnvelope {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = () => new DecryptionError('Not an encrypted envelope of a known version');
  let at = 0;
  const take = (n: number): Buffer => {
    if (at + n > buf.length) throw fail();
    const out = buf.subarray(at, at + n);
    at += n;
    return out;
  };
  if (!take(MAGIC.length).equals(MAGIC)) throw fail();
  const version = take(1).readUInt8(0);
  if (version !== ENVELOPE_VERSION) throw fail();
  const keyId = take(take(2).readUInt16BE(0)).toString('utf8');
  const wrappedKey = take(take(2).readUInt16BE(0));
  const iv = take(IV_BYTES);
  const header = buf.subarray(0, at);
  if (buf.length - at < TAG_BYTES || keyId === '' || wrappedKey.length === 0) throw fail();
  const ciphertext = buf.subarray(at, buf.length - TAG_BYTES);
  const tag = buf.subarray(buf.length - TAG_BYTES);
  return { version, keyId, wrappedKey, iv, ciphertext, tag, header };
}

/** The plaintext; DecryptionError for a wrong key, a wrong context or any altered byte. */
export async function open(
  envelope: Uint8Array,
  context: EncryptionContext,
  options: OpenOptions = {},
): Promise<Buffer> {
  checkContext(context);
  const sealed = parseSealed(envelope);
  const keys = options.keys ?? kmsKeys();
  const dataKey = await keys.decryptDataKey(sealed.wrappedKey, sealed.keyId, context);
  try {
    return gcmDecrypt(dataKey, sealed.iv, aadOf(sealed.header, context), sealed.ciphertext, sealed.tag);
  } finally {
    dataKey.fill(0);
  }
}
