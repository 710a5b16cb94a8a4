import { clearKeyringCache } from '../../functions/shared/platform/auth/keyring';
import { resetClients } from '../../functions/shared/platform/aws/clients';
import { clearSecretCache } from '../../functions/shared/platform/config/secrets';
import { resetEmulator } from '../../local/emulator';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../../local/stack';
import { emulatorUrl } from './emulator';

/**
 * The local stack for an e2e file, on a fresh emulator: every resource created anew, clients and
 * cached secrets forgotten, functions reading the signing secret from the emulator's Secrets
 * Manager as in AWS.
 */
export async function startTestStack(prefix: string, options: LocalStackOptions = {}): Promise<LocalStack> {
  await resetEmulator(emulatorUrl());
  resetClients();
  clearKeyringCache();
  clearSecretCache();
  delete process.env.JWT_SECRET;
  return startLocalStack({ port: 0, emulatorUrl: emulatorUrl(), prefix, ...options });
}

/** Polls until `probe` gives a value; fails naming what did not come in time. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
