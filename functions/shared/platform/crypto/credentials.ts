import { COMMON_ENV_VARS, type CredentialName } from '../../../../contract/resources';
import type { TenantScope } from '../../features/tenancy/rules/scope';
import { requireEnv } from '../config/resources';
import { open, seal } from './envelope';
import type { EncryptionContext, KeyProvider } from './keys';

/**
 * Stored credentials (Google Ads refresh tokens, Meta access tokens, webhook secrets that must be
 * recoverable): sealed in an envelope under the data key (DATA_KMS_KEY_ID), bound to the tenant
 * and the credential's name by the encryption context. What is stored is base64 of the envelope;
 * opening it with another tenant's scope or under another name fails.
 */
export const CREDENTIAL_PURPOSE = 'credential';
const NAME = /^[a-z0-9][a-z0-9_.:-]{0,127}$/;

export interface CredentialOptions {
  readonly keys?: KeyProvider;
  /** The KMS key that wraps the data keys; DATA_KMS_KEY_ID by default. */
  readonly keyId?: string;
}

/** The context a tenant's credential is sealed under, e.g. `google_ads.refresh_token`. */
export function credentialContext(scope: TenantScope, name: string): EncryptionContext {
  if (!NAME.test(name)) throw new Error(`Credential name ${JSON.stringify(name)} is not allowed`);
  return { purpose: CREDENTIAL_PURPOSE, tenant_id: scope.tenantId, name };
}

/** The storable form of a secret: base64 of its envelope, never the secret itself. */
export async function sealCredential(
  scope: TenantScope,
  name: CredentialName,
  secret: string,
  options: CredentialOptions = {},
): Promise<string> {
  if (secret === '') throw new Error('An empty credential cannot be sealed');
  const context = credentialContext(scope, name);
  const keyId = options.keyId ?? requireEnv(COMMON_ENV_VARS.kmsKeyId);
  const plaintext = Buffer.from(secret, 'utf8');
  try {
    const sealed = await seal(plaintext, context, { keyId, ...(options.keys ? { keys: options.keys } : {}) });
    return sealed.toString('base64');
  } finally {
    plaintext.fill(0);
  }
}

/** The secret back; DecryptionError for another tenant, another name, or an altered value. */
export async function openCredential(
  scope: TenantScope,
  name: CredentialName,
  stored: string,
  options: Pick<CredentialOptions, 'keys'> = {},
): Promise<string> {
  const context = credentialContext(scope, name);
  const plaintext = await open(Buffer.from(stored, 'base64'), context, options);
  try {
    return plaintext.toString('utf8');
  } finally {
    plaintext.fill(0);
  }
}
