import { QUEUES } from '../../contract/resources';
import { loadKeyring } from '../../functions/shared/platform/auth/keyring';
import { signToken } from '../../functions/shared/platform/auth/tokens';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../../local/stack';
import { createTenantWithKey } from '../load/tenant';

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
