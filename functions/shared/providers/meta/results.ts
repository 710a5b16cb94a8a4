/**
 * Reading Meta's answers (Graph API error codes, `events_received`); no I/O here.
 *
 * - `disconnected`: the access token expired or was revoked (OAuthException 190, API Session 102).
 *   The integration stops until the tenant connects again; events wait.
 * - `throttled`: rate limits (4, 17, 32, 613, 80004); retried after a backoff.
 * - `transient`: Meta's own trouble (1, 2, `is_transient`, 5xx, timeouts, a short count of
 *   events received); retried after a backoff. Events carry their ids, so Meta deduplicates a
 *   resent event.
 * - `configuration`: the Graph API version is no longer served (2635): every tenant is affected
 *   until `META_GRAPH_API_VERSION` is set to a served one; events wait.
 * - `rejected`: invalid parameter (100) and other client errors: the events fail with Meta's
 *   message (a batch is first split to find the event Meta refuses).
 */
export type MetaFailureKind = 'disconnected' | 'throttled' | 'transient' | 'configuration' | 'rejected';

export class MetaFailure extends Error {
  override readonly name = 'MetaFailure';
  constructor(
    readonly kind: MetaFailureKind,
    message: string,
    readonly code?: number,
    readonly subcode?: number,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** Graph API's error object, as every error answer carries it. */
export interface GraphError {
  message?: string;
  type?: string;
  code?: number;
  error_subcode?: number;
  is_transient?: boolean;
  error_user_title?: string;
  error_user_msg?: string;
  fbtrace_id?: string;
}

/** A successful `POST /{pixel}/events` answer. */
export interface EventsResponse {
  events_received?: number;
  messages?: unknown[];
  fbtrace_id?: string;
}

const DISCONNECTED = new Set([190, 102]);
const THROTTLED = new Set([4, 17, 32, 613, 80004]);
const TRANSIENT = new Set([1, 2]);
const DEPRECATED_VERSION = 2635;

export function graphErrorOf(body: unknown): GraphError | undefined {
  const error = (body as { error?: unknown } | undefined)?.error;
  return typeof error === 'object' && error !== null ? (error as GraphError) : undefined;
}

/** The failure an error answer (HTTP status and body) stands for. */
export function failureOf(status: number, body: unknown): MetaFailure {
  const error = graphErrorOf(body);
  const code = typeof error?.code === 'number' ? error.code : undefined;
  const subcode = typeof error?.error_subcode === 'number' ? error.error_subcode : undefined;
  const detail = error?.error_user_msg || error?.message;
  const said = `Meta answered ${status}${code !== undefined ? ` (code ${code}${subcode !== undefined ? `/${subcode}` : ''})` : ''}`;
  const make = (kind: MetaFailureKind, message: string) =>
    new MetaFailure(kind, message, code, subcode, status);
  if (code !== undefined && DISCONNECTED.has(code))
    return make('disconnected', `Meta refused the access token (code ${code}): connect the pixel again`);
  if (code === DEPRECATED_VERSION)
    return make(
      'configuration',
      `${said}: this Graph API version is no longer served; set META_GRAPH_API_VERSION`,
    );
  if (code !== undefined && THROTTLED.has(code)) return make('throttled', `${said}: rate limited`);
  if ((code !== undefined && TRANSIENT.has(code)) || error?.is_transient === true || status >= 500 || !error)
    return make('transient', detail ? `${said}: ${detail}` : said);
  return make(
    'rejected',
    detail ? `Meta rejected the event: ${detail}` : `Meta rejected the event (${said})`,
  );
}

/** Whether Meta took every event sent; a short count is retried (event ids make that safe). */
export function receivedAll(body: EventsResponse, sent: number): MetaFailure | undefined {
  if (body.events_received === sent) return undefined;
  return new MetaFailure('transient', `Meta received ${body.events_received ?? 'no'} of ${sent} events`);
}
