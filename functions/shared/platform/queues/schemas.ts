import * as z from 'zod/mini';

/** Queues whose dead letters an operator inspects and redrives through the API. */
export const REDRIVABLE = ['webhooks', 'conversions'] as const;

/** `GET /api/v1/admin/dlq?queue=`. */
export const dlqQuery = z.object({ queue: z.optional(z.enum(REDRIVABLE)) });

/** `POST /api/v1/admin/dlq/redrive`. */
export const redriveBody = z.object({
  queue: z.enum(REDRIVABLE),
  max: z._default(z.number().check(z.int(), z.gte(1), z.lte(10_000)), 1000),
});
