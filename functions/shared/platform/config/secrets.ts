import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { secretsClient } from '../aws/clients';
import { ConfigurationError } from './resources';

/** How long a function keeps a fetched secret before asking Secrets Manager again. */
export const SECRET_CACHE_SECONDS = 300;

export interface SecretSource {
  /** Environment variable holding the value itself (local runs, tests); wins when set. */
  readonly plainEnv: string;
  /** Environment variable holding the Secrets Manager secret's ARN (AWS, and the local stack). */
  readonly arnEnv: string;
}

const cache = new Map<string, { value: string; fetchedAt: number }>();

/**
 * A secret's string value: from `plainEnv` when set, else from Secrets Manager (`arnEnv`),
 * cached for SECRET_CACHE_SECONDS. Neither set, or an empty secret: ConfigurationError, so
 * callers fail closed.
 */
export async function loadSecret(source: SecretSource, now: number = Date.now()): Promise<string> {
  const plain = process.env[source.plainEnv];
  if (plain) return plain;
  const arn = process.env[source.arnEnv];
  if (!arn) throw new ConfigurationError(`Neither ${source.plainEnv} nor ${source.arnEnv} is set`);
  const key = `${source.arnEnv}:${arn}`;
  const hit = cache.get(key);
  if (hit && now - hit.fetchedAt < SECRET_CACHE_SECONDS * 1000) return hit.value;
  const out = await secretsClient().send(new GetSecretValueCommand({ SecretId: arn }));
  if (!out.SecretString)
    throw new ConfigurationError(`${source.arnEnv} names a secret without a string value`);
  cache.set(key, { value: out.SecretString, fetchedAt: now });
  return out.SecretString;
}

/** Forget cached secrets (after a rotation in this process, and in tests). */
export function clearSecretCache(): void {
  cache.clear();
}
