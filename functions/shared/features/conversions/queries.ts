import * as z from 'zod/mini';
import { CONVERSION_STATUSES } from './model';

/** `GET /api/v1/conversions?status=`: the conversion log, by conversion time with a status. */
export const listConversionsQuery = z.object({ status: z.optional(z.enum(CONVERSION_STATUSES)) });
