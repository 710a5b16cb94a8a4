import { SQSClient } from '@aws-sdk/client-sqs';
import { resetClients } from '../../functions/shared/platform/aws/clients';
import { bootstrap } from '../../local/bootstrap';
import { resetEmulator } from '../../local/emulator';

export function emulatorUrl(): string {
  const url = process.env.TEST_EMULATOR_URL;
  if (!url) throw new Error('TEST_EMULATOR_URL is not set: run tests through jest (global setup)');
  return url;
}

/**
 * Gives a test file a fresh emulator with every resource of the shared list, and points the
 * functions' clients at it. Returns the environment the functions see.
 */
export async function freshResources(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const url = emulatorUrl();
  await resetEmulator(url);
  const env = await bootstrap({ endpoint: url, region: 'us-east-1', prefix: 'test' });
  Object.assign(process.env, { AWS_ENDPOINT_URL: url }, env, extra);
  resetClients();
  return env;
}

/** `freshResources()` with an SQS client on the emulator, which the caller destroys when done. */
export async function freshQueues(
  extra: Record<string, string> = {},
): Promise<{ env: Record<string, string>; sqs: SQSClient }> {
  const env = await freshResources(extra);
  return { env, sqs: new SQSClient({ endpoint: emulatorUrl(), region: 'us-east-1' }) };
}
