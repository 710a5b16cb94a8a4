import path from 'node:path';
import { startEmulator } from '../../local/emulator';

/** One emulator for the run; integration and e2e files reset it before use. */
export default async function globalSetup(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const emulator = await startEmulator({ root: path.resolve(__dirname, '..', '..') });
  process.env.TEST_EMULATOR_URL = emulator.url;
  (globalThis as { __emulator__?: typeof emulator }).__emulator__ = emulator;
}
