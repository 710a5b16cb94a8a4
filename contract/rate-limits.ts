/** Rate-limit scopes, their environment variables and their documented defaults (docs/api.md, Rate limits). */
export type LimitScope = 'ip' | 'source' | 'tenant';

export const RATE_LIMIT_ENV: Readonly<Record<LimitScope, string>> = {
  ip: 'RATE_LIMIT_IP_PER_HOUR',
  source: 'RATE_LIMIT_SHOP_PER_HOUR',
  tenant: 'RATE_LIMIT_TENANT_PER_HOUR',
};

export const DEFAULT_RATE_LIMITS: Readonly<Record<LimitScope, number>> = {
  ip: 100,
  source: 1000,
  tenant: 1000,
};
