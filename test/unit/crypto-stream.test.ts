import { randomBytes } from 'node:crypto';
import { DecryptionError, type EncryptionContext } from '../../functions/shared/platform/crypto/keys';
import {
  decryptStream,
  encryptStream,
  MAX_CHUNK_BYTES,
  type StreamDecryptOptions,
  type StreamHeader,
} from '../../functions/shared/platform/crypto/stream';
import { bitFlips, MemoryKeyProvider } from '../support/keys';

const KEY = 'arn:aws:kms:us-east-1:000000000000:key/backup';
const context: EncryptionContext = { purpose: 'backup', scope: 'bkp_job_one' };
const keys = new MemoryKeyProvider([KEY]);

async function* pieces(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function collect(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of source) parts.push(part);
  return Buffer.concat(parts);
}

async function encrypt(plaintext: Buffer, chunkBytes: number, options: { keys?: MemoryKeyProvider } = {}) {
  return collect(
    encryptStream(pieces(plaintext, 7), { keyId: KEY, context, keys: options.keys ?? keys, chunkBytes }),
  );
}

const decrypt = (stream: Buffer, options: Partial<StreamDecryptOptions> = {}, pieceSize = 13) =>
  collect(decryptStream(pieces(stream, pieceSize), { purpose: 'backup', context, keys, ...options }));

/** The byte offsets where frames start: after the header, then after each frame. */
function frameOffsets(stream: Buffer): number[] {
  const offsets: number[] = [];
  let at = 9 + stream.readUInt32BE(5);
  while (at < stream.length) {
    offsets.push(at);
    at += 5 + stream.readUInt32BE(at + 1) + 16;
  }
  return offsets;
}

describe('stream encryption', () => {
  test.each([
    [0, 16],
    [1, 16],
    [16, 16],
    [40, 16],
    [100_000, 4096],
    [3 * 1024 * 1024 + 5, 1024 * 1024],
  ])('round trip of %i bytes in chunks of %i', async (size, chunkBytes) => {
    const plaintext = randomBytes(size);
    const stream = await encrypt(plaintext, chunkBytes);
    // 16 random bytes or more do not occur in the ciphertext by chance; the plaintext must not either.
    if (size >= 16) expect(stream.includes(plaintext.subarray(0, 16))).toBe(false);
    for (const pieceSize of [1, 13, 65_536]) {
      if (size > 200_000 && pieceSize === 1) continue;
      const opened = await decrypt(stream, {}, pieceSize);
      expect(opened.length).toBe(size);
      expect(opened.equals(plaintext)).toBe(true);
    }
  });

  test('frames hold at most one chunk; the last one is marked final', async () => {
    const stream = await encrypt(randomBytes(40), 16);
    const offsets = frameOffsets(stream);
    expect(offsets).toHaveLength(3);
    expect(offsets.map((at) => stream.readUInt8(at))).toEqual([0, 0, 1]);
    expect(offsets.map((at) => stream.readUInt32BE(at + 1))).toEqual([16, 16, 8]);
  });

  test('the header names key, context and version, and is reported before any plaintext', async () => {
    const stream = await encrypt(Buffer.from('{"a":1}\n'), 16);
    const headers: StreamHeader[] = [];
    await decrypt(stream, { context: undefined, onHeader: (h) => headers.push(h) });
    expect(headers).toEqual([{ version: 1, keyId: KEY, context, chunkBytes: 16 }]);
  });

  test('data keys are zeroed when the stream ends, on both sides', async () => {
    const local = new MemoryKeyProvider([KEY]);
    const stream = await encrypt(randomBytes(100), 16, { keys: local });
    await decrypt(stream, { keys: local });
    expect(local.issued).toHaveLength(2);
    for (const key of local.issued) expect(key.equals(Buffer.alloc(32))).toBe(true);
  });

  test('a consumer that stops early still zeroes the data key', async () => {
    const local = new MemoryKeyProvider([KEY]);
    for await (const _part of encryptStream(pieces(randomBytes(100), 10), {
      keyId: KEY,
      context,
      keys: local,
    })) {
      break;
    }
    expect(local.issued[0]?.equals(Buffer.alloc(32))).toBe(true);
  });

  test('a wrong key fails', async () => {
    const stream = await encrypt(randomBytes(100), 16);
    await expect(decrypt(stream, { keys: new MemoryKeyProvider([KEY]) })).rejects.toBeInstanceOf(
      DecryptionError,
    );
  });

  test('a wrong context or purpose fails before any key is asked for', async () => {
    const stream = await encrypt(randomBytes(100), 16);
    const local = new MemoryKeyProvider([KEY]);
    await expect(
      decrypt(stream, { keys: local, context: { purpose: 'backup', scope: 'bkp_other' } }),
    ).rejects.toThrow('another purpose or scope');
    await expect(decrypt(stream, { keys: local, purpose: 'credential', context: undefined })).rejects.toThrow(
      DecryptionError,
    );
    expect(local.issued).toHaveLength(0);
  });

  test('a header rewritten to another context fails at the key', async () => {
    const stream = await encrypt(randomBytes(100), 16);
    const forged = Buffer.from(stream.toString('latin1').replace('bkp_job_one', 'bkp_job_two'), 'latin1');
    await expect(
      decrypt(forged, { context: { purpose: 'backup', scope: 'bkp_job_two' } }),
    ).rejects.toBeInstanceOf(DecryptionError);
  });

  test('one flipped bit anywhere in header, IV prefix, wrapped key, frame heads, ciphertext or tags fails', async () => {
    const stream = await encrypt(Buffer.from('{"line":1}\n{"line":2}\n{"line":3}\n{"x":4}\n'), 16);
    let accepted = 0;
    for (const { flipped } of bitFlips(stream)) {
      try {
        await decrypt(flipped, {}, 4096);
        accepted += 1;
      } catch (error) {
        expect(error).toBeInstanceOf(DecryptionError);
      }
    }
    expect(accepted).toBe(0);
  });

  test('a stream cut anywhere fails, including exactly at a frame boundary', async () => {
    const stream = await encrypt(randomBytes(50), 16);
    const boundaries = frameOffsets(stream);
    expect(boundaries.length).toBeGreaterThan(2);
    for (let length = 0; length < stream.length; length++) {
      await expect(decrypt(stream.subarray(0, length), {}, 4096)).rejects.toBeInstanceOf(DecryptionError);
    }
  });

  test('bytes after the final frame fail', async () => {
    const stream = await encrypt(randomBytes(50), 16);
    await expect(decrypt(Buffer.concat([stream, Buffer.of(0)]))).rejects.toThrow('follows the final chunk');
    await expect(decrypt(Buffer.concat([stream, stream.subarray(frameOffsets(stream)[0])]))).rejects.toThrow(
      DecryptionError,
    );
  });

  test('reordered, repeated or dropped frames fail', async () => {
    const stream = await encrypt(randomBytes(64), 16);
    const offsets = [...frameOffsets(stream), stream.length];
    const header = stream.subarray(0, offsets[0]);
    const frames = offsets.slice(0, -1).map((at, i) => stream.subarray(at, offsets[i + 1]));
    expect(frames).toHaveLength(5);
    const [f0, f1, f2, f3, f4] = frames as [Buffer, Buffer, Buffer, Buffer, Buffer];
    for (const order of [
      [f1, f0, f2, f3, f4],
      [f0, f0, f1, f2, f3, f4],
      [f0, f2, f3, f4],
      [f0, f1, f2, f4],
      [f4],
    ]) {
      await expect(decrypt(Buffer.concat([header, ...order]))).rejects.toBeInstanceOf(DecryptionError);
    }
  });

  test('frames from another stream under the same context do not fit', async () => {
    const one = await encrypt(randomBytes(32), 16);
    const two = await encrypt(randomBytes(32), 16);
    const spliced = Buffer.concat([
      one.subarray(0, frameOffsets(one)[0]),
      two.subarray(frameOffsets(two)[0]),
    ]);
    await expect(decrypt(spliced)).rejects.toBeInstanceOf(DecryptionError);
  });

  test('lengths that would make the reader allocate without bound are refused', async () => {
    const stream = await encrypt(randomBytes(40), 16);
    const first = frameOffsets(stream)[0] as number;
    const hugeFrame = Buffer.from(stream);
    hugeFrame.writeUInt32BE(0xffffffff, first + 1);
    await expect(decrypt(hugeFrame)).rejects.toThrow('malformed');
    const hugeHeader = Buffer.from(stream);
    hugeHeader.writeUInt32BE(0xffffffff, 5);
    await expect(decrypt(hugeHeader)).rejects.toThrow('known version');
  });

  test.each([
    ['not JSON', '{'],
    ['another cipher', { cipher: 'AES-128-CBC' }],
    ['a chunk size over the maximum', { chunk_bytes: MAX_CHUNK_BYTES + 1 }],
    ['a short IV prefix', { iv_prefix: 'AAA=' }],
    ['a context without scope', { context: { purpose: 'backup' } }],
  ])('a header with %s is refused', async (_name, change) => {
    const stream = await encrypt(randomBytes(40), 16);
    const length = stream.readUInt32BE(5);
    const header = JSON.parse(stream.subarray(9, 9 + length).toString()) as Record<string, unknown>;
    const json = Buffer.from(typeof change === 'string' ? change : JSON.stringify({ ...header, ...change }));
    const preamble = Buffer.from(stream.subarray(0, 9));
    preamble.writeUInt32BE(json.length, 5);
    await expect(
      decrypt(Buffer.concat([preamble, json, stream.subarray(9 + length)])),
    ).rejects.toBeInstanceOf(DecryptionError);
  });

  test('chunk size must be sensible; the context must be valid', async () => {
    for (const chunkBytes of [0, 1.5, MAX_CHUNK_BYTES + 1]) {
      await expect(
        collect(encryptStream(pieces(Buffer.from('x'), 1), { keyId: KEY, context, keys, chunkBytes })),
      ).rejects.toThrow('chunkBytes');
    }
    await expect(
      collect(
        encryptStream(pieces(Buffer.from('x'), 1), { keyId: KEY, context: { purpose: 'backup' }, keys }),
      ),
    ).rejects.toThrow('scope');
  });

  test('IVs differ across streams of the same context (random prefix)', async () => {
    const prefixes = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const stream = await encrypt(Buffer.from('x'), 16);
      const header = JSON.parse(stream.subarray(9, 9 + stream.readUInt32BE(5)).toString()) as {
        iv_prefix: string;
      };
      prefixes.add(header.iv_prefix);
    }
    expect(prefixes.size).toBeGreaterThan(190);
  });
});
