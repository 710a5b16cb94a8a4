import { randomBytes } from 'node:crypto';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { scopeOf } from '../../functions/shared/features/tenancy/rules/scope';
import type { AuthContext } from '../../functions/shared/platform/auth/context';
import { documentClient } from '../../functions/shared/platform/aws/clients';
import { ConfigurationError } from '../../functions/shared/platform/config/resources';
import {
  credentialContext,
  openCredential,
  sealCredential,
} from '../../functions/shared/platform/crypto/credentials';
import { open, parseSealed, seal } from '../../functions/shared/platform/crypto/envelope';
import { DecryptionError, type EncryptionContext } from '../../functions/shared/platform/crypto/keys';
import { decryptStream, encryptStream } from '../../functions/shared/platform/crypto/stream';
import { emulatorUrl, freshResources } from '../support/emulator';

const tenant = (tenantId: string): AuthContext => ({
  tenantId,
  role: 'admin',
  subject: 'user',
  method: 'jwt',
});

async function collect(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of source) parts.push(part);
  return Buffer.concat(parts);
}

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

describe('envelope encryption with KMS (emulator)', () => {
  let env: Record<string, string>;
  let dataKey: string;
  let otherKey: string;
  const context: EncryptionContext = { purpose: 'credential', tenant_id: 'ten_a', name: 'meta.access_token' };

  beforeAll(async () => {
    env = await freshResources();
    dataKey = env.DATA_KMS_KEY_ID as string;
    const kms = new KMSClient({ endpoint: emulatorUrl(), region: 'us-east-1' });
    otherKey = (await kms.send(new CreateKeyCommand({ Description: 'another key' }))).KeyMetadata
      ?.KeyId as string;
    kms.destroy();
  });

  test('round trip through GenerateDataKey and Decrypt; the envelope names the key by ARN', async () => {
    const plaintext = randomBytes(3000);
    const sealed = await seal(plaintext, context, { keyId: dataKey });
    expect(parseSealed(sealed).keyId).toMatch(new RegExp(`^arn:aws:kms:.*:key/${dataKey}$`));
    expect((await open(sealed, context)).equals(plaintext)).toBe(true);
  });

  test('a wrong key fails: the envelope rewritten to name another KMS key', async () => {
    const sealed = await seal(Buffer.from('secret'), context, { keyId: dataKey });
    const parsed = parseSealed(sealed);
    const otherArn = parsed.keyId.replace(dataKey, otherKey);
    const swapped = Buffer.from(sealed.toString('latin1').replace(parsed.keyId, otherArn), 'latin1');
    await expect(open(swapped, context)).rejects.toBeInstanceOf(DecryptionError);
  });

  test('a wrong encryption context fails at KMS', async () => {
    const sealed = await seal(Buffer.from('secret'), context, { keyId: dataKey });
    for (const other of [
      { ...context, tenant_id: 'ten_b' },
      { ...context, name: 'google_ads.refresh_token' },
      { ...context, purpose: 'backup' },
    ]) {
      await expect(open(sealed, other)).rejects.toBeInstanceOf(DecryptionError);
    }
  });

  test('a flipped bit in the wrapped key, IV, ciphertext or tag fails (sampled per region)', async () => {
    const sealed = await seal(Buffer.from('a token of some length for the tamper test'), context, {
      keyId: dataKey,
    });
    const parsed = parseSealed(sealed);
    const ivAt = parsed.header.length - 12;
    const wrappedAt = ivAt - parsed.wrappedKey.length;
    const positions = [
      5, // version
      8, // key id
      wrappedAt,
      wrappedAt + Math.floor(parsed.wrappedKey.length / 2),
      ivAt - 1,
      ivAt,
      ivAt + 11,
      parsed.header.length,
      sealed.length - 17,
      sealed.length - 16,
      sealed.length - 1,
    ];
    for (const position of positions) {
      for (const bit of [0, 7]) {
        const flipped = Buffer.from(sealed);
        flipped[position] = (flipped[position] as number) ^ (1 << bit);
        await expect(open(flipped, context)).rejects.toBeInstanceOf(DecryptionError);
      }
    }
  });

  test('a stream round trip with KMS; another scope cannot read it', async () => {
    const plaintext = randomBytes(200_000);
    const streamContext = { purpose: 'backup', scope: 'bkp_kms_test' };
    const stream = await collect(
      encryptStream(once(plaintext), { keyId: dataKey, context: streamContext, chunkBytes: 64 * 1024 }),
    );
    expect(
      (await collect(decryptStream(once(stream), { purpose: 'backup', context: streamContext }))).equals(
        plaintext,
      ),
    ).toBe(true);
    const forged = Buffer.from(stream.toString('latin1').replace('bkp_kms_test', 'bkp_kms_xxxx'), 'latin1');
    await expect(collect(decryptStream(once(forged), { purpose: 'backup' }))).rejects.toBeInstanceOf(
      DecryptionError,
    );
  });

  test('an unknown key cannot seal', async () => {
    await expect(seal(Buffer.from('x'), context, { keyId: 'alias/does-not-exist' })).rejects.toThrow();
  });
});

describe('stored credentials', () => {
  const token = 'EAAGm0PX4ZCpsBAKZBZC-meta-access-token-9f8e7d6c5b4a';
  const a = scopeOf(tenant('ten_a'));
  const b = scopeOf(tenant('ten_b'));

  beforeAll(async () => {
    await freshResources();
  });

  test('the stored form holds no plaintext token, and the tenant reads it back', async () => {
    const stored = await sealCredential(a, 'meta.access_token', token);
    expect(stored).not.toContain(token);
    expect(Buffer.from(stored, 'base64').includes(Buffer.from(token))).toBe(false);
    // Stored in DynamoDB as any integration would store it; the item holds the sealed form only.
    const item = { pk: 'TENANT#ten_a', sk: 'INTEGRATION#meta', pixel_id: '123', access_token_sealed: stored };
    await documentClient().send(new PutCommand({ TableName: process.env.TENANTS_TABLE, Item: item }));
    expect(JSON.stringify(item)).not.toContain(token);
    expect(await openCredential(a, 'meta.access_token', stored)).toBe(token);
  });

  test("reading it back with another tenant's context fails", async () => {
    const stored = await sealCredential(a, 'meta.access_token', token);
    await expect(openCredential(b, 'meta.access_token', stored)).rejects.toBeInstanceOf(DecryptionError);
  });

  test('reading it back under another credential name fails', async () => {
    const stored = await sealCredential(a, 'meta.access_token', token);
    await expect(openCredential(a, 'google_ads.refresh_token', stored)).rejects.toBeInstanceOf(
      DecryptionError,
    );
  });

  test('a stored value that was altered or is not an envelope fails', async () => {
    const stored = Buffer.from(
      await sealCredential(a, 'shopify.webhook_secret', 'shpss_0123456789'),
      'base64',
    );
    stored[stored.length - 20] = (stored[stored.length - 20] as number) ^ 1;
    await expect(
      openCredential(a, 'shopify.webhook_secret', stored.toString('base64')),
    ).rejects.toBeInstanceOf(DecryptionError);
    await expect(openCredential(a, 'shopify.webhook_secret', 'plaintext-secret')).rejects.toBeInstanceOf(
      DecryptionError,
    );
  });

  test('sealing needs the data key setting, a name and a value', async () => {
    const saved = process.env.DATA_KMS_KEY_ID;
    delete process.env.DATA_KMS_KEY_ID;
    try {
      await expect(sealCredential(a, 'meta.access_token', token)).rejects.toBeInstanceOf(ConfigurationError);
    } finally {
      process.env.DATA_KMS_KEY_ID = saved;
    }
    await expect(sealCredential(a, 'meta.access_token', '')).rejects.toThrow('empty credential');
    expect(() => credentialContext(a, 'Bad Name')).toThrow('not allowed');
    expect(credentialContext(a, 'ghl.webhook_token')).toEqual({
      purpose: 'credential',
      tenant_id: 'ten_a',
      name: 'ghl.webhook_token',
    });
  });
});
