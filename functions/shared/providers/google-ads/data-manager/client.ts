import { readJson } from '../../../platform/http/outbound';
import { type Fetch, GoogleAdsFailure, timeoutMs, transportFailure } from '../tokens';
import type { IngestEventsRequest } from './request';
import {
  accountNotReadyReason,
  type ErrorSummary,
  errorSummary,
  type FieldWarning,
  fieldWarningsOf,
} from './results';

/**
 * The Data Manager API adapter: every call goes through `dataManagerCall`, one place for the
 * base URL, timeout, headers and the mapping of failures (so a circuit breaker can wrap it).
 * No developer token: the OAuth scope `datamanager` is what it needs.
 */
export const DEFAULT_DATA_MANAGER_BASE_URL = 'https://datamanager.googleapis.com';
export const dataManagerBaseUrl = () =>
  (process.env.GOOGLE_DATA_MANAGER_BASE_URL || DEFAULT_DATA_MANAGER_BASE_URL).replace(/\/+$/, '');

/** Google refused the request whole (400 INVALID_ARGUMENT): which events, when it says so. */
export class DataManagerRejection extends GoogleAdsFailure {
  constructor(
    message: string,
    readonly summary: ErrorSummary,
    status: number,
  ) {
    super('rejected', message, undefined, status);
  }
}

export interface DataManagerCall {
  method: 'GET' | 'POST';
  /** e.g. `/v1/events:ingest`; never personal data (it would end up in logs). */
  path: string;
  accessToken: string;
  body?: unknown;
}

/** One Data Manager API call: the parsed answer, or a GoogleAdsFailure. */
export async function dataManagerCall(call: DataManagerCall, fetchImpl: Fetch = fetch): Promise<unknown> {
  let response: Response;
  try {
    response = await fetchImpl(`${dataManagerBaseUrl()}${call.path}`, {
      method: call.method,
      headers: {
        Authorization: `Bearer ${call.accessToken}`,
        Accept: 'application/json',
        ...(call.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      },
      ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
      signal: AbortSignal.timeout(timeoutMs()),
    });
  } catch (error) {
    throw transportFailure(error, 'The Data Manager API');
  }
  let body: unknown;
  try {
    body = await readJson(response);
  } catch (error) {
    throw transportFailure(error, 'The Data Manager API');
  }
  if (response.ok) return body ?? {};
  const summary = errorSummary(body);
  // The account is not set up for conversions matched on user data: they wait for it, unsent.
  const notReady = accountNotReadyReason(summary);
  if (notReady) throw new GoogleAdsFailure('needs_configuration', notReady, undefined, response.status);
  const what = `The Data Manager API answered ${response.status}${summary.status ? ` ${summary.status}` : ''}`;
  const said = summary.message ? `: ${summary.message}` : '';
  if (response.status === 429) {
    const header = Number(response.headers.get('retry-after'));
    const retry = summary.retryDelaySeconds ?? (Number.isFinite(header) && header > 0 ? header : undefined);
    throw new GoogleAdsFailure('transient', `${what}${said}`, retry, 429);
  }
  if (response.status >= 500 || response.status === 401)
    throw new GoogleAdsFailure('transient', what, undefined, response.status);
  if (response.status === 403 || response.status === 404)
    throw new GoogleAdsFailure(
      'configuration',
      `${what}${said}: check the account id, the conversion action and that the connected Google user may use them`,
      undefined,
      response.status,
    );
  throw new DataManagerRejection(`${what}${said}`, summary, response.status);
}

/** What `events:ingest` answered: the request id, and the optional fields Google could not use. */
export interface IngestAnswer {
  requestId?: string;
  fieldWarnings?: FieldWarning[];
}

/** `events:ingest`: the request id Google processes the events under, and its field warnings. */
export async function ingestEvents(
  accessToken: string,
  body: IngestEventsRequest,
  fetchImpl: Fetch = fetch,
): Promise<IngestAnswer> {
  const answer = (await dataManagerCall(
    { method: 'POST', path: '/v1/events:ingest', accessToken, body },
    fetchImpl,
  )) as { requestId?: unknown };
  const fieldWarnings = fieldWarningsOf(answer);
  return {
    ...(typeof answer.requestId === 'string' ? { requestId: answer.requestId } : {}),
    ...(fieldWarnings.length > 0 ? { fieldWarnings } : {}),
  };
}

/** `requestStatus:retrieve` for a request id (an opaque id Google gave, not personal data). */
export async function retrieveRequestStatus(
  accessToken: string,
  requestId: string,
  fetchImpl: Fetch = fetch,
): Promise<unknown> {
  return dataManagerCall(
    {
      method: 'GET',
      path: `/v1/requestStatus:retrieve?${new URLSearchParams({ requestId })}`,
      accessToken,
    },
    fetchImpl,
  );
}
