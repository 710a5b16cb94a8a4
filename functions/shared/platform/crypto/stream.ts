import { createHash, randomBytes } from 'node:crypto';
import * as z from 'zod/mini';
import { parseJsonAs } from '../json';
import { gcmDecrypt, gcmEncrypt, IV_BYTES, TAG_BYTES } from './aes-gcm';
import {
  checkContext,
  DecryptionError,
  type EncryptionContext,
  type KeyProvider,
  kmsKeys,
  sameContext,
} from './keys';

/**
 * Envelope encryption of a stream too large to hold in memory (a backup export): one KMS data
 * key per stream, the plaintext cut into chunks, each chunk sealed with AES-256-GCM on its own.
 *
 *   "AEBK" | version (1 byte) | header length (u32) | header (JSON)
 *   frame, repeated: flags (1 byte, bit 0 = final) | ciphertext length (u32) | ciphertext | tag (16)
 *
 * The header names the cipher, the KMS key (ARN) and wrapped data key, the encryption context,
 * a random 4-byte IV prefix and the chunk size. Frame i uses IV = prefix || i (u64) and AAD =
 * SHA-256(preamble and header) || i (u64) || flags.
 *
 * Why chunks rather than one GCM stream over the whole object: GCM verifies its tag only at the
 * end, so a streaming reader of one long GCM stream hands out plaintext nobody has authenticated
 * yet (a restore would write items before knowing the file is genuine), or must buffer the whole
 * export; one GCM invocation is also capped at about 64 GiB. Here every chunk is verified before
 * its plaintext is released, and memory stays at one chunk. The counter in IV and AAD makes a
 * reordered, dropped or repeated frame fail; the final flag in the AAD makes a stream cut at a
 * frame boundary fail (no final frame), as does anything appended after the final frame; the
 * header digest in the AAD binds every frame to this key, context and prefix. IVs never repeat
 * under a data key (the counter), and the random prefix keeps them apart across streams too.
 */
export const STREAM_VERSION = 1;
export const DEFAULT_CHUNK_BYTES = 1024 * 1024;
/** Readers refuse larger chunks, so a forged length cannot make them allocate without bound. */
export const MAX_CHUNK_BYTES = 16 * 1024 * 1024;
const MAX_HEADER_BYTES = 64 * 1024;
const MAGIC = Buffer.from('AEBK', 'ascii');
const PREAMBLE_BYTES = MAGIC.length + 1 + 4;
const FRAME_HEAD_BYTES = 1 + 4;
const FINAL = 0x01;
const IV_PREFIX_BYTES = IV_BYTES - 8;
const CIPHER = 'AES-256-GCM';

export interface StreamHeader {
  readonly version: number;
  readonly keyId: string;
  readonly context: EncryptionContext;
  readonly chunkBytes: number;
}

export interface StreamEncryptOptions {
  /** The KMS key (id, ARN or alias) that wraps the data key. */
  readonly keyId: string;
  readonly context: EncryptionContext;
  readonly keys?: KeyProvider;
  readonly chunkBytes?: number;
}

export interface StreamDecryptOptions {
  /** The purpose the stream must have been encrypted for. */
  readonly purpose: string;
  /** When given, the exact context the stream must carry; otherwise any context of `purpose`. */
  readonly context?: EncryptionContext;
  readonly keys?: KeyProvider;
  /** Called once the header is read and checked, before any plaintext. */
  readonly onHeader?: (header: StreamHeader) => void;
}

const headerSchema = z.object({
  cipher: z.literal(CIPHER),
  key_id: z.string().check(z.minLength(1)),
  wrapped_key: z.string().check(z.minLength(1)),
  context: z.record(z.string(), z.string()),
  iv_prefix: z.string(),
  chunk_bytes: z.int().check(z.minimum(1), z.maximum(MAX_CHUNK_BYTES)),
});

/**
 * Bytes in arrival order; takes exactly n bytes (n at most `length`), copying only when a take
 * spans pieces. A head index rather than `shift()`, so many small pieces stay linear.
 */
class ByteQueue {
  private chunks: Buffer[] = [];
  private head = 0;
  length = 0;

  push(bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return;
    this.chunks.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    this.length += bytes.byteLength;
  }

  take(n: number): Buffer {
    const parts: Buffer[] = [];
    let needed = n;
    while (needed > 0) {
      const first = this.chunks[this.head] as Buffer;
      if (first.length <= needed) {
        parts.push(first);
        this.head += 1;
        needed -= first.length;
      } else {
        parts.push(first.subarray(0, needed));
        this.chunks[this.head] = first.subarray(needed);
        needed = 0;
      }
    }
    if (this.head > 1024 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
    this.length -= n;
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, n);
  }
}

const sha256 = (...parts: Buffer[]) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
};

function ivOf(prefix: Buffer, counter: bigint): Buffer {
  const iv = Buffer.alloc(IV_BYTES);
  prefix.copy(iv, 0);
  iv.writeBigUInt64BE(counter, IV_PREFIX_BYTES);
  return iv;
}

function aadOf(digest: Buffer, counter: bigint, flags: number): Buffer {
  const aad = Buffer.alloc(digest.length + 8 + 1);
  digest.copy(aad, 0);
  aad.writeBigUInt64BE(counter, digest.length);
  aad.writeUInt8(flags, digest.length + 8);
  return aad;
}

/** Encrypts `source` into the stream format; yields the header first, then one frame per chunk. */
export async function* encryptStream(
  source: AsyncIterable<Uint8Array>,
  options: StreamEncryptOptions,
): AsyncGenerator<Buffer> {
  const context = checkContext(options.context);
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1 || chunkBytes > MAX_CHUNK_BYTES) {
    throw new Error(`chunkBytes must be an integer from 1 to ${MAX_CHUNK_BYTES}`);
  }
  const dataKey = await (options.keys ?? kmsKeys()).generateDataKey(options.keyId, context);
  try {
    const ivPrefix = randomBytes(IV_PREFIX_BYTES);
    const json = Buffer.from(
      JSON.stringify({
        cipher: CIPHER,
        key_id: dataKey.keyId,
        wrapped_key: dataKey.wrapped.toString('base64'),
        context,
        iv_prefix: ivPrefix.toString('base64'),
        chunk_bytes: chunkBytes,
      }),
      'utf8',
    );
    const preamble = Buffer.alloc(PREAMBLE_BYTES);
    MAGIC.copy(preamble, 0);
    preamble.writeUInt8(STREAM_VERSION, MAGIC.length);
    preamble.writeUInt32BE(json.length, MAGIC.length + 1);
    const digest = sha256(preamble, json);
    yield Buffer.concat([preamble, json]);

    let counter = 0n;
    const frame = (plaintext: Buffer, flags: number): Buffer => {
      const { ciphertext, tag } = gcmEncrypt(
        dataKey.plaintext,
        ivOf(ivPrefix, counter),
        aadOf(digest, counter, flags),
        plaintext,
      );
      counter += 1n;
      const head = Buffer.alloc(FRAME_HEAD_BYTES);
      head.writeUInt8(flags, 0);
      head.writeUInt32BE(ciphertext.length, 1);
      return Buffer.concat([head, ciphertext, tag]);
    };
    const pending = new ByteQueue();
    for await (const bytes of source) {
      pending.push(bytes);
      while (pending.length >= chunkBytes) yield frame(pending.take(chunkBytes), 0);
    }
    yield frame(pending.take(pending.length), FINAL);
  } finally {
    dataKey.plaintext.fill(0);
  }
}

function parseHeader(json: Buffer, options: StreamDecryptOptions) {
  const header = parseJsonAs(json.toString('utf8'), headerSchema, (why) =>
    why.notJson
      ? new DecryptionError('The backup header is not readable', { cause: why.cause })
      : new DecryptionError('The backup header is not of a known format'),
  );
  const context = header.context as EncryptionContext;
  try {
    checkContext(context);
  } catch (error) {
    throw new DecryptionError('The backup header has no valid encryption context', { cause: error });
  }
  if (context.purpose !== options.purpose || (options.context && !sameContext(context, options.context))) {
    throw new DecryptionError('The stream was encrypted for another purpose or scope');
  }
  const ivPrefix = Buffer.from(header.iv_prefix, 'base64');
  const wrappedKey = Buffer.from(header.wrapped_key, 'base64');
  if (ivPrefix.length !== IV_PREFIX_BYTES || wrappedKey.length === 0) {
    throw new DecryptionError('The backup header is not of a known format');
  }
  return { keyId: header.key_id, wrappedKey, context, ivPrefix, chunkBytes: header.chunk_bytes };
}

/**
 * Decrypts the stream format, yielding each chunk's plaintext only after its tag verified.
 * DecryptionError for a wrong key or context, any altered byte, a missing, reordered or
 * repeated frame, a stream cut short, or bytes after the final frame. A consumer that must not
 * act on a prefix of a stream that later fails (a restore) waits for the generator to finish.
 */
export async function* decryptStream(
  source: AsyncIterable<Uint8Array>,
  options: StreamDecryptOptions,
): AsyncGenerator<Buffer> {
  const iterator = source[Symbol.asyncIterator]();
  const queue = new ByteQueue();
  const fill = async (n: number): Promise<boolean> => {
    while (queue.length < n) {
      const next = await iterator.next();
      if (next.done) return false;
      queue.push(next.value);
    }
    return true;
  };
  const truncated = () => new DecryptionError('The stream ends before its final chunk');
  try {
    if (!(await fill(PREAMBLE_BYTES))) throw truncated();
    const preamble = queue.take(PREAMBLE_BYTES);
    const headerLength = preamble.readUInt32BE(MAGIC.length + 1);
    if (
      !preamble.subarray(0, MAGIC.length).equals(MAGIC) ||
      preamble.readUInt8(MAGIC.length) !== STREAM_VERSION ||
      headerLength > MAX_HEADER_BYTES
    ) {
      throw new DecryptionError('Not an encrypted stream of a known version');
    }
    if (!(await fill(headerLength))) throw truncated();
    const json = queue.take(headerLength);
    const header = parseHeader(json, options);
    options.onHeader?.({
      version: STREAM_VERSION,
      keyId: header.keyId,
      context: header.context,
      chunkBytes: header.chunkBytes,
    });
    const digest = sha256(preamble, json);
    const key = await (options.keys ?? kmsKeys()).decryptDataKey(
      header.wrappedKey,
      header.keyId,
      header.context,
    );
    try {
      for (let counter = 0n; ; counter += 1n) {
        if (!(await fill(FRAME_HEAD_BYTES))) throw truncated();
        const head = queue.take(FRAME_HEAD_BYTES);
        const flags = head.readUInt8(0);
        const length = head.readUInt32BE(1);
        if ((flags & ~FINAL) !== 0 || length > header.chunkBytes) {
          throw new DecryptionError('A chunk of the stream is malformed');
        }
        if (!(await fill(length + TAG_BYTES))) throw truncated();
        const ciphertext = queue.take(length);
        const tag = queue.take(TAG_BYTES);
        const plaintext = gcmDecrypt(
          key,
          ivOf(header.ivPrefix, counter),
          aadOf(digest, counter, flags),
          ciphertext,
          tag,
        );
        if (plaintext.length > 0) yield plaintext;
        if (flags & FINAL) break;
      }
    } finally {
      key.fill(0);
    }
    if (queue.length > 0 || (await fill(1))) throw new DecryptionError('Data follows the final chunk');
  } finally {
    await iterator.return?.();
  }
}
