import * as z from 'zod/mini';
import { httpUrl } from '../../platform/http/schema-text';

/** `POST /api/v1/billing/portal`: where Stripe sends the customer back (else the portal's default). */
export const billingPortalBody = z.object({
  return_url: z.optional(httpUrl(2048)),
});

export const billingPortalResponse = z.object({
  url: z.url(),
});

/** `GET /api/v1/billing`: the tenant's subscription as last confirmed with Stripe. */
export const billingStatusResponse = z.object({
  status: z.string(),
  subscription_id: z.nullable(z.string()),
  current_period_end: z.nullable(z.string()),
  cancel_at_period_end: z.boolean(),
  portal_available: z.boolean(),
  updated_at: z.nullable(z.string()),
});
