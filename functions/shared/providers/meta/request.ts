import type { MetaServerEvent } from './events';

/**
 * The body of `POST /{pixel}/events`: at most 1,000 events per request, as Meta documents; the
 * access token travels in the Authorization header, never in the body or the URL. No I/O here.
 */
export const MAX_EVENTS_PER_REQUEST = 1000;

export interface MetaEventsRequest {
  data: MetaServerEvent[];
  /** Events Manager's Test Events code, when the tenant set one. */
  test_event_code?: string;
}

export function eventsRequest(events: readonly MetaServerEvent[], testEventCode?: string): MetaEventsRequest {
  return { data: [...events], ...(testEventCode ? { test_event_code: testEventCode } : {}) };
}

/** Consecutive groups of at most `size` (1,000) items, in order. */
export function batches<T>(items: readonly T[], size = MAX_EVENTS_PER_REQUEST): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new Error('A batch holds at least one item');
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Items grouped by pixel, each pixel's in batches of at most 1,000. */
export function batchesPerPixel<T>(items: readonly T[], pixelOf: (item: T) => string): Map<string, T[][]> {
  const byPixel = new Map<string, T[]>();
  for (const item of items) {
    const pixel = pixelOf(item);
    const list = byPixel.get(pixel) ?? [];
    list.push(item);
    byPixel.set(pixel, list);
  }
  return new Map([...byPixel].map(([pixel, list]) => [pixel, batches(list)]));
}
