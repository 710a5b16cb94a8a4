import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { clearKeyringCache, loadKeyring, parseKeyring } from '../../functions/shared/platform/auth/keyring';
import { verifyToken } from '../../functions/shared/platform/auth/tokens';
import { secretsClient } from '../../functions/shared/platform/aws/clients';
import { resetBreakers } from '../../functions/shared/platform/breaker/circuits';
import { DynamoCircuitStore } from '../../functions/shared/platform/breaker/dynamo';
import { parseDuration, run } from '../../ops/cli';
import { emulatorUrl, freshResources } from '../support/emulator';
import { capture } from '../support/operator';

describe('operator commands', () => {
  let env: Record<string, string>;
  beforeAll(async () => {
    env = await freshResources();
    delete process.env.JWT_SECRET;
    clearKeyringCache();
  });

  it('issues a token the service accepts', async () => {
    const io = capture();
    expect(await run(['token', 'issue', '--tenant', 'platform', '--role', 'owner', '--ttl', '10m'], io)).toBe(
      0,
    );
    const token = io.stdout[0] as string;
    const auth = await verifyToken(token, await loadKeyring());
    expect(auth).toEqual({
      tenantId: 'platform',
      role: 'owner',
      subject: 'operator:platform',
      method: 'jwt',
    });
    expect(io.stderr.join('\n')).toContain('valid 600 s');
  });

  it('rotates the secret, keeping the previous key for the window', async () => {
    const before = await loadKeyring();
    const io = capture();
    const oldToken = capture();
    await run(['token', 'issue', '--tenant', 't1', '--role', 'viewer'], oldToken);
    expect(await run(['secret', 'rotate', '--window', '2h'], io)).toBe(0);
    expect(io.stderr).toEqual(['[1/2] Reading the current secret ...', '[2/2] Writing the new secret ...']);
    const stored = await secretsClient().send(new GetSecretValueCommand({ SecretId: env.JWT_SECRET_ARN }));
    const after = parseKeyring(stored.SecretString as string);
    expect(after.previous?.kid).toBe(before.current.kid);
    expect(after.current.kid).not.toBe(before.current.kid);
    expect(io.stdout[0]).toContain(`New key ${after.current.kid}`);
    await expect(verifyToken(oldToken.stdout[0] as string, await loadKeyring())).resolves.toMatchObject({
      tenantId: 't1',
    });
  });

  it('explains usage errors with exit code 2', async () => {
    for (const argv of [
      [],
      ['token', 'issue', '--role', 'owner'],
      ['token', 'issue', '--tenant', 't', '--role', 'god'],
      ['token', 'issue', '--tenant', 't', '--role', 'owner', '--ttl', '2d'],
      ['token', 'issue', '--tenant', 't', '--role', 'owner', '--ttl', '48h'],
      ['secret', 'rotate', '--window', '5m'],
      ['launch', 'rockets'],
      ['--bogus'],
    ]) {
      const io = capture();
      expect(await run(argv, io)).toBe(2);
    }
    const help = capture();
    expect(await run(['--help'], help)).toBe(0);
    expect(help.stdout[0]).toContain('Usage: adsengineer');
  });

  it('issues no token longer-lived than the API accepts (JWT_MAX_TTL_SECONDS)', async () => {
    process.env.JWT_MAX_TTL_SECONDS = '3600';
    try {
      const refused = capture();
      expect(
        await run(['token', 'issue', '--tenant', 'platform', '--role', 'owner', '--ttl', '2h'], refused),
      ).toBe(2);
      expect(refused.stderr.join('\n')).toContain('--ttl must be 1s to 3600s');
      const issued = capture();
      expect(
        await run(['token', 'issue', '--tenant', 'platform', '--role', 'owner', '--ttl', '1h'], issued),
      ).toBe(0);
    } finally {
      delete process.env.JWT_MAX_TTL_SECONDS;
    }
  });

  it('refuses to rotate without a secret id, and reports failures with exit code 1', async () => {
    const saved = process.env.JWT_SECRET_ARN;
    delete process.env.JWT_SECRET_ARN;
    try {
      expect(await run(['secret', 'rotate'], capture())).toBe(2);
      const io = capture();
      expect(await run(['secret', 'rotate', '--secret-id', 'missing-secret'], io)).toBe(1);
      expect(io.stderr.at(-1)).toMatch(/^Failed: /);
    } finally {
      process.env.JWT_SECRET_ARN = saved;
    }
  });

  it('parses durations', () => {
    expect(parseDuration('90')).toBe(90);
    expect(parseDuration('15m')).toBe(900);
    expect(parseDuration('2h')).toBe(7200);
    expect(() => parseDuration('1.5h')).toThrow('not a duration');
  });
});

describe('dlq redrive', () => {
  it('moves dead letters back to their queue with progress, keeping their bodies', async () => {
    const env = await freshResources();
    const sqs = new SQSClient({ endpoint: emulatorUrl(), region: 'us-east-1' });
    for (let i = 0; i < 12; i++) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: env.WEBHOOKS_DLQ_URL,
          MessageBody: `{"delivery":${i}}`,
          MessageAttributes: {
            reason: { DataType: 'String', StringValue: 'outage' },
            source: { DataType: 'String', StringValue: 'shopify' },
          },
        }),
      );
    }
    const io = capture();
    expect(await run(['dlq', 'redrive', '--queue', 'webhooks'], io)).toBe(0);
    expect(io.stdout).toEqual(['Redrove 12 message(s) to webhooks.']);
    expect(io.stderr).toContain('  10 moved');
    const back = [];
    for (let i = 0; i < 3; i++) {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: env.WEBHOOKS_QUEUE_URL,
          MaxNumberOfMessages: 10,
          MessageAttributeNames: ['All'],
        }),
      );
      back.push(...(out.Messages ?? []));
    }
    sqs.destroy();
    expect(back.map((m) => m.Body).sort()).toEqual(
      Array.from({ length: 12 }, (_, i) => `{"delivery":${i}}`).sort(),
    );
    for (const m of back) {
      expect(m.MessageAttributes?.source?.StringValue).toBe('shopify');
      expect(m.MessageAttributes?.reason).toBeUndefined();
    }
    expect(await run(['dlq', 'redrive', '--queue', 'nope'], capture())).toBe(2);
    expect(await run(['dlq', 'redrive', '--queue', 'webhooks', '--max', '0'], capture())).toBe(2);
  });
});

describe('circuit status and circuit close', () => {
  it('shows each provider’s circuit and closes an open one for every instance', async () => {
    await freshResources();
    resetBreakers();
    const store = new DynamoCircuitStore();
    const now = Date.now();
    await store.replace(
      'google_ads',
      {
        state: 'open',
        version: 1,
        failures: [],
        openedAt: now - 600_000,
        openUntil: now + 30_000,
        lastSuccessAt: now - 700_000,
      },
      0,
    );
    const status = capture();
    expect(await run(['circuit', 'status'], status)).toBe(0);
    expect(status.stdout[0]).toMatch(
      /^google_ads: open, open since \S+Z, next probe in (29|30) s, last success \S+Z$/,
    );
    expect(status.stdout.slice(1)).toEqual([
      'meta: closed, no success recorded',
      'stripe: closed, no success recorded',
    ]);

    const close = capture();
    expect(await run(['circuit', 'close', '--provider', 'google_ads'], close)).toBe(0);
    expect(close.stdout[0]).toMatch(/^The google_ads circuit was open; it is closed now\./);
    expect((await store.read('google_ads')).state).toBe('closed');
    const again = capture();
    expect(await run(['circuit', 'close', '--provider', 'google_ads'], again)).toBe(0);
    expect(again.stdout[0]).toBe(
      'The google_ads circuit was already closed; its recent failures are forgotten.',
    );
    const bad = capture();
    expect(await run(['circuit', 'close', '--provider', 'bing'], bad)).toBe(2);
    expect(bad.stderr[0]).toMatch(/^circuit close needs --provider google_ads/);
  });
});
