import * as z from 'zod/mini';
import { ROLES } from '../../../lib/definitions/routes';
import { trimmedText } from '../schema-text';

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
