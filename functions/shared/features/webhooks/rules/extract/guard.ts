import { type Extraction, invalid } from './types';

/**
 * Runs an extractor so that no payload can make it throw: the readers check every value they
 * touch, and this is the last line should one still fail (a payload built in memory with throwing
 * getters, say). A payload that cannot be read is a permanent failure.
 */
export function guarded(extract: () => Extraction): Extraction {
  try {
    return extract();
  } catch {
    return invalid('the payload could not be read');
  }
}

/** A topic as it may appear in a reason: a string, at most 64 characters. */
export function topicLabel(topic: unknown): string {
  return typeof topic === 'string' ? topic.slice(0, 64) : '(none)';
}
