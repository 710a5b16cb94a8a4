import { RATE_LIMIT_ENV } from '../../contract/rate-limits';
import { QUEUES } from '../../contract/resources';
import { loadKeyring } from '../../functions/shared/platform/auth/keyring';
import { signToken } from '../../functions/shared/platform/auth/tokens';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../../local/stack';
import { createTenantWithKey } from '../load/tenant';
import { type CapturedOutput, captureOutput } from './output';

/**
 * The local stack in this process (its own emulator unless AWS_ENDPOINT_URL names one), for
 * benchmarks and the load tool, with a helper that makes a tenant and its admin API key.
 */
export async function startBenchStack(options: LocalStackOptions & { consumers?: boolean } = {}): Promise<{
  stack: LocalStack;
  newTenant: (name: string) => Promise<{ tenantId: string; apiKey: string }>;
}> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const stack = await startLocalStack({
    port: 0,
    prefix: options.prefix ?? `bench${Date.now().toString(36)}`,
    emulatorUrl: options.emulatorUrl ?? (process.env.AWS_ENDPOINT_URL || undefined),
    ...(options.consumers === false ? { withoutConsumers: QUEUES.map((q) => q.id) } : {}),
    ...options,
  });
  const newTenant = async (name: string) => {
    const platform = await signToken(
      await loadKeyring(),
      { sub: 'bench:operator', org_id: process.env.PLATFORM_ORG_ID ?? 'platform', role: 'owner' },
      900,
    );
    return createTenantWithKey(stack.url, platform, name);
  };
  return { stack, newTenant };
}

/** No rate limit in reach of a benchmark: it measures the work, not the refusals. */
export function liftRateLimits(): void {
  for (const variable of Object.values(RATE_LIMIT_ENV)) process.env[variable] = '1000000000';
}

export interface ApiBench {
  stack: LocalStack;
  /** An admin API key of the benchmark's tenant. */
  apiKey: string;
  output: CapturedOutput;
}

/**
 * Runs `body` against the functions in this process: the local stack without queue consumers, a
 * tenant of its own, no rate limit in reach, the functions' output (WARN and above unless
 * POWERTOOLS_LOG_LEVEL says) counted and kept off the terminal (`keepLines` keeps the lines too).
 * Stops it all afterwards.
 */
export async function onApiBench<T>(
  tenantName: string,
  options: { keepLines?: boolean },
  body: (bench: ApiBench) => Promise<T>,
): Promise<T> {
  liftRateLimits();
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  const { stack, newTenant } = await startBenchStack({ consumers: false });
  const output = captureOutput(options.keepLines);
  try {
    const { apiKey } = await newTenant(tenantName);
    return await body({ stack, apiKey, output });
  } finally {
    output.restore();
    await stack.stop();
  }
}
