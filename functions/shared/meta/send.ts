import type { EventsAnswer, EventsCall } from './client';
import { deliverIsolating } from './delivery';
import { buildMetaEvent, type MetaEventInput, type MetaServerEvent } from './events';
import { batches, eventsRequest } from './request';
import type { MetaFailure } from './results';

/**
 * Sending one tenant's Meta conversions to its pixel: each conversion becomes an event or the
 * reason it cannot be one (consent, restriction, the 7-day rule, Meta's rules); the events go in
 * requests of at most 1,000, a refused request is split to find the refused events, and each
 * conversion gets its outcome. No I/O here: `post` is the client call.
 */
export type MetaOutcome =
  | { kind: 'uploaded'; fbtraceId?: string }
  | { kind: 'failed'; reason: string }
  | { kind: 'cancelled'; reason: 'consent_withdrawn' | 'restricted' }
  /** Not sent for a reason of the whole call (token, throttling, outage, version): it waits. */
  | { kind: 'waiting'; failure: MetaFailure };

export interface MetaTarget {
  pixelId: string;
  accessToken: string;
  testEventCode?: string;
  limitedDataUse: boolean;
}

export interface MetaSendDeps {
  post(call: EventsCall): Promise<EventsAnswer>;
  now(): Date;
}

export interface MetaSendReport {
  /** By conversion id. */
  outcomes: Map<string, MetaOutcome>;
  /** Events per request made, in order. */
  requestSizes: number[];
}

export async function sendMetaEvents(
  inputs: readonly MetaEventInput[],
  target: MetaTarget,
  deps: MetaSendDeps,
): Promise<MetaSendReport> {
  const outcomes = new Map<string, MetaOutcome>();
  const requestSizes: number[] = [];
  const events: MetaServerEvent[] = [];
  const now = deps.now();
  for (const input of inputs) {
    const built = buildMetaEvent(input, { limitedDataUse: target.limitedDataUse }, now);
    if (built.kind === 'event') events.push(built.event);
    else if (built.kind === 'cancelled') outcomes.set(input.id, { kind: 'cancelled', reason: built.reason });
    else outcomes.set(input.id, { kind: 'failed', reason: built.reason });
  }
  let stopped: MetaFailure | undefined;
  for (const batch of batches(events)) {
    if (stopped) {
      for (const event of batch) outcomes.set(event.event_id, { kind: 'waiting', failure: stopped });
      continue;
    }
    const report = await deliverIsolating(batch, (group) =>
      deps.post({
        pixelId: target.pixelId,
        accessToken: target.accessToken,
        body: eventsRequest(group, target.testEventCode),
      }),
    );
    requestSizes.push(...report.requestSizes);
    report.outcomes.forEach((outcome, i) => {
      const id = (batch[i] as MetaServerEvent).event_id;
      if (outcome.kind === 'delivered')
        outcomes.set(id, {
          kind: 'uploaded',
          ...(outcome.fbtraceId ? { fbtraceId: outcome.fbtraceId } : {}),
        });
      else if (outcome.kind === 'rejected') outcomes.set(id, { kind: 'failed', reason: outcome.reason });
      else {
        outcomes.set(id, { kind: 'waiting', failure: outcome.failure });
        if (outcome.failure.kind !== 'transient') stopped ??= outcome.failure;
      }
    });
  }
  return { outcomes, requestSizes };
}
