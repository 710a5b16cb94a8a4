import { randomBytes } from 'node:crypto';
import type { KMSClient } from '@aws-sdk/client-kms';
import { gcmDecrypt, gcmEncrypt } from '../../functions/shared/platform/crypto/aes-gcm';
import { ENVELOPE_VERSION, open, parseSealed, seal } from '../../functions/shared/platform/crypto/envelope';
import {
  checkContext,
  contextBytes,
  DecryptionError,
  type EncryptionContext,
  KmsKeyProvider,
  kmsKeys,
  sameContext,
} from '../../functions/shared/platform/crypto/keys';
import { bitFlips, MemoryKeyProvider } from '../support/keys';

const KEY_A = 'arn:aws:kms:us-east-1:000000000000:key/aaaa';
const KEY_B = 'arn:aws:kms:us-east-1:000000000000:key/bbbb';
const context: EncryptionContext = { purpose: 'credential', tenant_id: 'ten_a', name: 'meta.access_token' };

describe('envelope encryption', () => {
  const keys = new MemoryKeyProvider([KEY_A, KEY_B]);

  test.each([0, 1, 15, 16, 17, 4096, 1024 * 1024])('round trip of %i bytes', async (size) => {
    const plaintext = randomBytes(size);
    const sealed = await seal(plaintext, context, { keyId: KEY_A, keys });
    const opened = await open(sealed, context, { keys });
    expect(opened.length).toBe(size);
    expect(opened.equals(plaintext)).toBe(true);
  });

  test('the stored form carries version and key id, and not the plaintext', async () => {
    const secret = 'EAAGm0PX4ZCpsBA-super-secret-token';
    const sealed = await seal(Buffer.from(secret), context, { keyId: KEY_A, keys });
    const parsed = parseSealed(sealed);
    expect(parsed.version).toBe(ENVELOPE_VERSION);
    expect(parsed.keyId).toBe(KEY_A);
    expect(parsed.iv).toHaveLength(12);
    expect(parsed.tag).toHaveLength(16);
    expect(sealed.includes(Buffer.from(secret))).toBe(false);
    expect(sealed.toString('base64')).not.toContain(Buffer.from(secret).toString('base64'));
  });

  test('every data key handed out is zeroed after use', async () => {
    const local = new MemoryKeyProvider([KEY_A]);
    const sealed = await seal(Buffer.from('x'), context, { keyId: KEY_A, keys: local });
    await open(sealed, context, { keys: local });
    expect(local.issued).toHaveLength(2);
    for (const key of local.issued) expect(key.equals(Buffer.alloc(32))).toBe(true);
  });

  describe('a wrong key fails', () => {
    test('another key provider (another master key) cannot open it', async () => {
      const sealed = await seal(Buffer.from('secret'), context, { keyId: KEY_A, keys });
      const stranger = new MemoryKeyProvider([KEY_A]);
      await expect(open(sealed, context, { keys: stranger })).rejects.toBeInstanceOf(DecryptionError);
    });

    test('naming another master key in the envelope fails', async () => {
      const sealed = await seal(Buffer.from('secret'), context, { keyId: KEY_A, keys });
      const swapped = Buffer.from(sealed.toString('latin1').replace(KEY_A, KEY_B), 'latin1');
      expect(parseSealed(swapped).keyId).toBe(KEY_B);
      await expect(open(swapped, context, { keys })).rejects.toBeInstanceOf(DecryptionError);
    });

    test('AES-GCM with another data key fails the tag', () => {
      const iv = randomBytes(12);
      const aad = Buffer.from('aad');
      const { ciphertext, tag } = gcmEncrypt(randomBytes(32), iv, aad, Buffer.from('data'));
      expect(() => gcmDecrypt(randomBytes(32), iv, aad, ciphertext, tag)).toThrow(DecryptionError);
      expect(() => gcmDecrypt(randomBytes(32), iv, aad, ciphertext, tag.subarray(0, 12))).toThrow(
        DecryptionError,
      );
      expect(() => gcmEncrypt(randomBytes(16), iv, aad, Buffer.from('data'))).toThrow('32-byte key');
      expect(() => gcmEncrypt(randomBytes(32), randomBytes(16), aad, Buffer.from('data'))).toThrow(
        '12-byte IV',
      );
    });

    test('an unknown master key cannot seal', async () => {
      await expect(seal(Buffer.from('x'), context, { keyId: 'arn:nope', keys })).rejects.toThrow('not found');
    });
  });

  describe('a wrong encryption context fails', () => {
    const variants: EncryptionContext[] = [
      { ...context, tenant_id: 'ten_b' },
      { ...context, name: 'google_ads.refresh_token' },
      { ...context, purpose: 'backup' },
      { ...context, extra: 'x' },
      { purpose: 'credential', tenant_id: 'ten_a' },
    ];
    test.each(variants.map((v) => [JSON.stringify(v), v] as const))('%s', async (_name, other) => {
      const sealed = await seal(Buffer.from('secret'), context, { keyId: KEY_A, keys });
      await expect(open(sealed, other, { keys })).rejects.toBeInstanceOf(DecryptionError);
    });

    test('the context is bound by the cipher too, not only by the key provider', () => {
      // Same data key, different context: the AAD alone must make it fail.
      const key = randomBytes(32);
      const iv = randomBytes(12);
      const { ciphertext, tag } = gcmEncrypt(key, iv, contextBytes(context), Buffer.from('secret'));
      const other = contextBytes({ ...context, tenant_id: 'ten_b' });
      expect(() => gcmDecrypt(key, iv, other, ciphertext, tag)).toThrow(DecryptionError);
    });
  });

  test('a fresh 96-bit IV per encryption: 10,000 encryptions, no repeat', async () => {
    const ivs = new Set<string>();
    const wrapped = new Set<string>();
    const plaintext = Buffer.from('same plaintext every time');
    for (let i = 0; i < 10_000; i++) {
      const parsed = parseSealed(await seal(plaintext, context, { keyId: KEY_A, keys }));
      expect(parsed.iv).toHaveLength(12);
      ivs.add(parsed.iv.toString('hex'));
      wrapped.add(parsed.wrappedKey.toString('hex'));
    }
    expect(ivs.size).toBe(10_000);
    expect(wrapped.size).toBe(10_000);
  });

  test('one flipped bit anywhere (header, key id, wrapped key, IV, ciphertext, tag) fails', async () => {
    const sealed = await seal(Buffer.from('a token of forty-eight bytes, give or take a few'), context, {
      keyId: KEY_A,
      keys,
    });
    const parsed = parseSealed(sealed);
    const regions = {
      header: [0, 7],
      keyId: [7, 7 + Buffer.byteLength(parsed.keyId)],
      wrappedKey: [parsed.header.length - 12 - parsed.wrappedKey.length, parsed.header.length - 12],
      iv: [parsed.header.length - 12, parsed.header.length],
      ciphertext: [parsed.header.length, sealed.length - 16],
      tag: [sealed.length - 16, sealed.length],
    };
    const failedIn = Object.fromEntries(Object.keys(regions).map((name) => [name, 0]));
    let accepted = 0;
    for (const { index, flipped } of bitFlips(sealed)) {
      try {
        await open(flipped, context, { keys });
        accepted += 1;
      } catch (error) {
        expect(error).toBeInstanceOf(DecryptionError);
        const region = Object.entries(regions).find(
          ([, [from, to]]) => index >= (from as number) && index < (to as number),
        );
        if (region) failedIn[region[0]] = (failedIn[region[0]] ?? 0) + 1;
      }
    }
    expect(accepted).toBe(0);
    for (const [name, [from, to]] of Object.entries(regions)) {
      expect({ name, failed: failedIn[name] }).toEqual({
        name,
        failed: ((to as number) - (from as number)) * 8,
      });
    }
  });

  test('cut or extended envelopes fail', async () => {
    const sealed = await seal(Buffer.from('secret value'), context, { keyId: KEY_A, keys });
    for (let length = 0; length < sealed.length; length++) {
      await expect(open(sealed.subarray(0, length), context, { keys })).rejects.toBeInstanceOf(
        DecryptionError,
      );
    }
    await expect(open(Buffer.concat([sealed, Buffer.of(0)]), context, { keys })).rejects.toBeInstanceOf(
      DecryptionError,
    );
  });
});

describe('encryption context rules', () => {
  test('a purpose and a scope are required; keys and values are simple', () => {
    expect(checkContext(context)).toBe(context);
    expect(() => checkContext({ purpose: '' })).toThrow('needs a purpose');
    expect(() => checkContext({ scope: 'x' } as unknown as EncryptionContext)).toThrow('needs a purpose');
    expect(() => checkContext({ purpose: 'backup' })).toThrow('needs a scope');
    expect(() => checkContext({ purpose: 'backup', 'Bad-Key': 'x' })).toThrow('not allowed');
    expect(() => checkContext({ purpose: 'backup', scope: '' })).toThrow('non-empty string');
    expect(() => checkContext({ purpose: 'backup', scope: 'x'.repeat(1025) })).toThrow('non-empty string');
  });

  test('canonical bytes do not depend on key order', () => {
    expect(sameContext({ purpose: 'p', a: '1', b: '2' }, { b: '2', a: '1', purpose: 'p' })).toBe(true);
    expect(sameContext({ purpose: 'p', a: '1' }, { purpose: 'p', a: '2' })).toBe(false);
  });

  test('seal and open refuse an invalid context before any key is used', async () => {
    const keys = new MemoryKeyProvider([KEY_A]);
    await expect(seal(Buffer.from('x'), { purpose: 'x' }, { keyId: KEY_A, keys })).rejects.toThrow('scope');
    await expect(open(Buffer.alloc(100), { purpose: 'x' }, { keys })).rejects.toThrow('scope');
    expect(keys.issued).toHaveLength(0);
  });
});

describe('KMS key provider', () => {
  const fakeKms = (send: (command: { input: Record<string, unknown> }) => Promise<unknown>) =>
    ({ send }) as unknown as KMSClient;
  const kmsError = (name: string) => Object.assign(new Error(name), { name });

  test('asks KMS for an AES-256 data key under the context, and zeroes what it returns', async () => {
    const plaintext = new Uint8Array(randomBytes(32));
    const calls: Record<string, unknown>[] = [];
    const provider = new KmsKeyProvider(
      fakeKms(async (command) => {
        calls.push(command.input);
        return { Plaintext: plaintext, CiphertextBlob: new Uint8Array([1, 2, 3]), KeyId: KEY_A };
      }),
    );
    const dataKey = await provider.generateDataKey('alias/backup', { purpose: 'backup', scope: 'job' });
    expect(calls).toEqual([
      { KeyId: 'alias/backup', KeySpec: 'AES_256', EncryptionContext: { purpose: 'backup', scope: 'job' } },
    ]);
    expect(dataKey.keyId).toBe(KEY_A);
    dataKey.plaintext.fill(0);
    expect(Buffer.from(plaintext).equals(Buffer.alloc(32))).toBe(true);
  });

  test('refuses a data key of the wrong size, zeroing it', async () => {
    const short = new Uint8Array(randomBytes(16));
    const provider = new KmsKeyProvider(
      fakeKms(async () => ({ Plaintext: short, CiphertextBlob: new Uint8Array([1]), KeyId: KEY_A })),
    );
    await expect(provider.generateDataKey(KEY_A, context)).rejects.toThrow('no usable data key');
    expect(Buffer.from(short).equals(Buffer.alloc(16))).toBe(true);
    const empty = new KmsKeyProvider(fakeKms(async () => ({})));
    await expect(empty.generateDataKey(KEY_A, context)).rejects.toThrow('no usable data key');
  });

  test.each([
    'InvalidCiphertextException',
    'IncorrectKeyException',
    'NotFoundException',
    'AccessDeniedException',
    'ValidationException',
  ])('a KMS %s on decrypt is a DecryptionError', async (name) => {
    const provider = new KmsKeyProvider(
      fakeKms(async () => {
        throw kmsError(name);
      }),
    );
    const error = await provider.decryptDataKey(Buffer.of(1), KEY_A, context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecryptionError);
    expect((error as DecryptionError).cause).toMatchObject({ name });
  });

  test('a KMS outage is not mistaken for a bad ciphertext', async () => {
    const provider = new KmsKeyProvider(
      fakeKms(async () => {
        throw kmsError('KMSInternalException');
      }),
    );
    await expect(provider.decryptDataKey(Buffer.of(1), KEY_A, context)).rejects.toThrow(
      'KMSInternalException',
    );
  });

  test('a decrypted key of the wrong size is refused and zeroed', async () => {
    const odd = new Uint8Array(randomBytes(31));
    const provider = new KmsKeyProvider(fakeKms(async () => ({ Plaintext: odd })));
    await expect(provider.decryptDataKey(Buffer.of(1), KEY_A, context)).rejects.toBeInstanceOf(
      DecryptionError,
    );
    expect(Buffer.from(odd).equals(Buffer.alloc(31))).toBe(true);
    const none = new KmsKeyProvider(fakeKms(async () => ({})));
    await expect(none.decryptDataKey(Buffer.of(1), KEY_A, context)).rejects.toBeInstanceOf(DecryptionError);
  });

  test('passes key id and context to KMS Decrypt', async () => {
    const calls: Record<string, unknown>[] = [];
    const provider = new KmsKeyProvider(
      fakeKms(async (command) => {
        calls.push(command.input);
        return { Plaintext: new Uint8Array(32) };
      }),
    );
    await provider.decryptDataKey(Buffer.of(9), KEY_B, context);
    expect(calls).toEqual([
      { CiphertextBlob: Buffer.of(9), KeyId: KEY_B, EncryptionContext: { ...context } },
    ]);
  });

  test('the default provider is one shared KMS provider', () => {
    expect(kmsKeys()).toBe(kmsKeys());
    expect(kmsKeys()).toBeInstanceOf(KmsKeyProvider);
  });
});
