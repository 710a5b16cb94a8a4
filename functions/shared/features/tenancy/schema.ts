import * as z from 'zod/mini';
import { ROLES } from '../../../../contract/routes';
import { trimmedText } from '../../platform/http/schema-text';
import { CONSENT_POLICIES } from '../leads/rules/consent-policy';
import { MAX_RETENTION_DAYS, MIN_RETENTION_DAYS } from '../retention/rules';

export const createTenantBody = z.object({
  name: trimmedText(200),
});

export const createApiKeyBody = z.object({
  name: z._default(trimmedText(100), 'default'),
  role: z._default(z.enum(ROLES), 'member'),
});

export const TENANT_STATUSES = ['active', 'suspended'] as const;

export const updateTenantBody = z.object({
  status: z.enum(TENANT_STATUSES),
});

/** PUT /api/v1/settings/consent: the tenant's consent policy (leads/consent-policy.ts). */
export const consentPolicyBody = z.object({
  policy: z.enum(CONSENT_POLICIES).check(
    z.meta({
      description:
        '`explicit`: no consent signal, no lead. `regional`: a lead outside the EEA, the UK and Switzerland without any consent signal is stored with consent `not_required`',
    }),
  ),
});

const retentionDays = (what: string) =>
  z.number().check(
    z.int(),
    z.gte(MIN_RETENTION_DAYS),
    z.lte(MAX_RETENTION_DAYS),
    z.meta({
      description: `Days ${what} are kept after their last change (${MIN_RETENTION_DAYS} to ${MAX_RETENTION_DAYS}); past it they expire on their own`,
      examples: [400],
    }),
  );

/** PUT /api/v1/settings/retention: how long the tenant's leads and conversions are kept. */
export const retentionBody = z.object({
  leads_days: retentionDays('leads'),
  conversions_days: retentionDays('conversions'),
});
