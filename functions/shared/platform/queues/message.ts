import type * as z from 'zod/mini';
import { parseJsonAs } from '../json';

/** A queued message that is not JSON of the queue's format: dead-lettered, never retried. */
export class InvalidMessageError extends Error {
  override readonly name = 'InvalidMessageError';
}

/**
 * A queued message's body read as the queue's format (`what` names it, e.g. "a webhook envelope
 * v1"); InvalidMessageError naming the wrong fields by path otherwise.
 */
export function parseMessage<S extends z.ZodMiniType>(body: string, schema: S, what: string): z.output<S> {
  return parseJsonAs(
    body,
    schema,
    (why) =>
      new InvalidMessageError(
        why.notJson ? 'message body is not JSON' : `message is not ${what} (${why.where})`,
      ),
  );
}
