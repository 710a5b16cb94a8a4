import type { EventsAnswer } from './client';
import { MetaFailure } from './results';

/**
 * Sending a batch so that one event Meta refuses does not hold back the others. Meta answers a
 * batch with one error and no index when any event in it is invalid, so a refused batch is split
 * in halves and each half sent again, down to the single event Meta refuses: k bad events in n
 * cost about k·log2(n) extra requests, and a clean batch costs one. No I/O here; `send` is the
 * client call.
 */
export type EventOutcome =
  | { kind: 'delivered'; fbtraceId?: string }
  /** Meta refused this event: it fails with Meta's message. */
  | { kind: 'rejected'; reason: string }
  /** Not delivered for a reason of the whole call (token, throttling, outage): it waits. */
  | { kind: 'unsent'; failure: MetaFailure };

export interface DeliveryReport {
  /** One per item, in order. */
  outcomes: EventOutcome[];
  /** The size of each request made, in order. */
  requestSizes: number[];
  /** The requests Meta accepted: which items each carried (from, to exclusive), how long it took. */
  accepted: Array<{ from: number; to: number; durationMs: number; fbtraceId?: string }>;
}

/** Failures after which no further request is made for this batch. */
const STOPPING = new Set(['disconnected', 'configuration', 'throttled']);

export async function deliverIsolating<T>(
  items: readonly T[],
  send: (items: readonly T[]) => Promise<EventsAnswer>,
  clock: () => number = Date.now,
): Promise<DeliveryReport> {
  const outcomes: EventOutcome[] = new Array(items.length);
  const requestSizes: number[] = [];
  const accepted: DeliveryReport['accepted'] = [];
  let stopped: MetaFailure | undefined;

  const mark = (from: number, to: number, outcome: EventOutcome) => {
    for (let i = from; i < to; i++) outcomes[i] = outcome;
  };

  async function attempt(from: number, to: number): Promise<void> {
    if (stopped) return mark(from, to, { kind: 'unsent', failure: stopped });
    requestSizes.push(to - from);
    const started = clock();
    try {
      const answer = await send(items.slice(from, to));
      const trace = answer.fbtraceId ? { fbtraceId: answer.fbtraceId } : {};
      accepted.push({ from, to, durationMs: clock() - started, ...trace });
      return mark(from, to, {
        kind: 'delivered',
        ...(answer.fbtraceId ? { fbtraceId: answer.fbtraceId } : {}),
      });
    } catch (error) {
      if (!(error instanceof MetaFailure)) throw error;
      if (error.kind !== 'rejected') {
        if (STOPPING.has(error.kind)) stopped = error;
        return mark(from, to, { kind: 'unsent', failure: error });
      }
      if (to - from === 1) return mark(from, to, { kind: 'rejected', reason: error.message });
      const middle = from + Math.ceil((to - from) / 2);
      await attempt(from, middle);
      await attempt(middle, to);
    }
  }

  if (items.length > 0) await attempt(0, items.length);
  return { outcomes, requestSizes, accepted };
}
