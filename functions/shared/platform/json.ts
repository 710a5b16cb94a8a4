import type * as z from 'zod/mini';

/** Why a text is not what a schema wants: not JSON at all, or JSON with these fields wrong. */
export type JsonRefusal = { notJson: true; cause: unknown } | { notJson: false; where: string };

/**
 * JSON text read as a schema's value (a queued message, a backup's line or header); else the
 * error `refuse` makes of why. `where` names the wrong fields by path (`(root)` for the whole).
 */
export function parseJsonAs<S extends z.ZodMiniType>(
  text: string,
  schema: S,
  refuse: (why: JsonRefusal) => Error,
): z.output<S> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    throw refuse({ notJson: true, cause });
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success)
    throw refuse({
      notJson: false,
      where: parsed.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', '),
    });
  return parsed.data;
}
