import * as z from 'zod/mini';
import { ROLES } from '../../../lib/definitions/routes';

export const createTenantBody = z.object({
  name: z.string().check(z.trim(), z.minLength(1), z.maxLength(200)),
});

export const createApiKeyBody = z.object({
  name: z._default(z.string().check(z.trim(), z.minLength(1), z.maxLength(100)), 'default'),
  role: z._default(z.enum(ROLES), 'member'),
});
