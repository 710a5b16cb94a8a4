import { readJson, timedOut } from '../../platform/http/outbound';
import type { MetaEventsRequest } from './request';
import { type EventsResponse, failureOf, MetaFailure, receivedAll } from './results';

/**
 * The Conversions API adapter: one `POST {META_GRAPH_BASE_URL}/{version}/{pixel}/events` with
 * fetch and a 1.5 s timeout (Meta's recommendation; most answers come within 600 ms). Every call
 * to Meta goes through `postEvents`, so a circuit breaker wraps this one function. The token is
 * sent as a bearer header and never appears in a URL, an error message or a log line.
 */
export const DEFAULT_GRAPH_BASE_URL = 'https://graph.facebook.com';
/**
 * Graph API v27.0 (released 4 November 2026); the Conversions API follows the Graph API's
 * schedule, so a version is served for at least two years.
 */
export const DEFAULT_GRAPH_API_VERSION = 'v27.0';
export const DEFAULT_TIMEOUT_MS = 1500;

export type Fetch = typeof fetch;

export const graphBaseUrl = () =>
  (process.env.META_GRAPH_BASE_URL || DEFAULT_GRAPH_BASE_URL).replace(/\/+$/, '');
export const graphApiVersion = () => process.env.META_GRAPH_API_VERSION || DEFAULT_GRAPH_API_VERSION;
const timeoutMs = () => Number(process.env.META_TIMEOUT_MS) || DEFAULT_TIMEOUT_MS;

export interface EventsCall {
  pixelId: string;
  accessToken: string;
  body: MetaEventsRequest;
}

export interface EventsAnswer {
  eventsReceived: number;
  /** Meta's trace id, for support cases. */
  fbtraceId?: string;
}

export function eventsUrl(pixelId: string): string {
  if (!/^\d+$/.test(pixelId)) throw new Error('A pixel id is numeric');
  return `${graphBaseUrl()}/${graphApiVersion()}/${pixelId}/events`;
}

function transportFailure(error: unknown): MetaFailure {
  return new MetaFailure(
    'transient',
    timedOut(error) ? 'Meta did not answer within 1.5 s' : 'Meta could not be reached',
  );
}

/** Sends one batch; every failure (transport, error answer, short count) is a MetaFailure. */
export async function postEvents(call: EventsCall, fetchImpl: Fetch = fetch): Promise<EventsAnswer> {
  let response: Response;
  let body: unknown;
  try {
    response = await fetchImpl(eventsUrl(call.pixelId), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${call.accessToken}` },
      body: JSON.stringify(call.body),
      signal: AbortSignal.timeout(timeoutMs()),
    });
    body = await readJson(response);
  } catch (error) {
    throw transportFailure(error);
  }
  if (!response.ok) throw failureOf(response.status, body);
  const answer = (body ?? {}) as EventsResponse;
  const short = receivedAll(answer, call.body.data.length);
  if (short) throw short;
  return {
    eventsReceived: answer.events_received as number,
    ...(typeof answer.fbtrace_id === 'string' ? { fbtraceId: answer.fbtrace_id } : {}),
  };
}
