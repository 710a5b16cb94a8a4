import { randomUUID } from 'node:crypto';
import {
  type BearerScopes,
  commandedFault,
  ENHANCED_CONVERSIONS_REFUSALS,
  type GoogleFaultCommands,
  googleJson,
  recordedHeaders,
  SHA256_HEX,
} from './google-common';
import { DATA_MANAGER_SCOPE } from './google-oauth';
import { type FakeReply, type FakeRequest, type FakeSurface, recordedReply, route } from './http-fake';

/**
 * Google's Data Manager API as the local Google fake serves it: `POST /v1/events:ingest`
 * validated strictly (Google's field names and enums, exactly one ad identifier, RFC 3339 times,
 * hex SHA-256 identifiers, at most 2,000 events), a bearer token the OAuth fake issued with the
 * `datamanager` scope; one bad event rejects the whole request (400 INVALID_ARGUMENT with
 * `BadRequest.fieldViolations` naming `events.events[i]`), otherwise `{requestId}`;
 * `GET /v1/requestStatus:retrieve` answers per destination (PROCESSING first when told, then
 * SUCCESS or PARTIAL_SUCCESS with error counts by reason); an accepted request may carry
 * `fieldWarnings` for events told to have one. On command it answers 429 with `RetryInfo`, 503,
 * slowly, or refuses enhanced conversions for leads for an account.
 */

export interface RecordedIngest {
  headers: Record<string, string | undefined>;
  body: unknown;
  status: number;
  requestId?: string;
}

export interface RecordedStatusRead {
  requestId: string;
  status: number;
}

export interface DataManagerCommands extends GoogleFaultCommands {
  /** Data Manager: events with these click ids make Google reject the request (reason by id). */
  badEvents: Map<string, string>;
  /** Data Manager: like badEvents, but the error names no event (the caller must split). */
  unlocatedBadEvents: Set<string>;
  /**
   * Data Manager: accepted events with these click ids come back with a field warning (v1.8
   * `fieldWarnings`): Google's `WarningReason` and the field's path in the event.
   */
  fieldWarnings: Map<string, { reason: string; field: string }>;
  /** Data Manager: processing errors reported later by request status, reason by click id. */
  processingErrors: Map<string, string>;
  /** Data Manager: requestStatus:retrieve answers PROCESSING this many times first. */
  processingReads: number;
}

export interface GoogleDataManager extends FakeSurface {
  readonly ingests: RecordedIngest[];
  readonly statusReads: RecordedStatusRead[];
}

const INGEST_FIELDS = new Set([
  'destinations',
  'events',
  'encoding',
  'encryptionInfo',
  'consent',
  'validateOnly',
]);
const DESTINATION_FIELDS = new Set([
  'reference',
  'operatingAccount',
  'loginAccount',
  'linkedAccount',
  'productDestinationId',
]);
const EVENT_FIELDS = new Set([
  'destinationReferences',
  'transactionId',
  'eventTimestamp',
  'lastUpdatedTimestamp',
  'userData',
  'consent',
  'adIdentifiers',
  'currency',
  'conversionValue',
  'eventSource',
  'eventDeviceInfo',
  'cartData',
  'customVariables',
  'experimentalFields',
  'userProperties',
]);
const AD_IDENTIFIER_FIELDS = new Set([
  'sessionAttributes',
  'gclid',
  'gbraid',
  'wbraid',
  'landingPageDeviceInfo',
]);
const ACCOUNT_TYPES = new Set([
  'GOOGLE_ADS',
  'DISPLAY_VIDEO_PARTNER',
  'DISPLAY_VIDEO_ADVERTISER',
  'DATA_PARTNER',
]);
const EVENT_SOURCES = new Set(['WEB', 'APP', 'IN_STORE', 'PHONE', 'OTHER']);
const CONSENT_VALUES = new Set(['CONSENT_GRANTED', 'CONSENT_DENIED']);
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

interface FieldViolation {
  field: string;
  description: string;
  reason: string;
}

function dataManagerError(
  status: number,
  statusName: string,
  message: string,
  violations?: FieldViolation[],
) {
  const requestId = `t-${randomUUID()}`;
  return {
    error: {
      code: status,
      message,
      status: statusName,
      details: [
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          reason: statusName,
          domain: 'datamanager.googleapis.com',
          metadata: { requestId },
        },
        { '@type': 'type.googleapis.com/google.rpc.RequestInfo', requestId },
        ...(violations?.length
          ? [{ '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: violations }]
          : []),
      ],
    },
  };
}

/** Every way the request breaks Google's rules: the request is rejected whole if there is one. */
function ingestViolations(body: unknown): FieldViolation[] {
  const out: FieldViolation[] = [];
  const add = (field: string, reason: string, description: string) =>
    out.push({ field, reason, description });
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    add('', 'INVALID_ARGUMENT', 'The request body is not an object.');
    return out;
  }
  const request = body as Record<string, unknown>;
  for (const key of Object.keys(request))
    if (!INGEST_FIELDS.has(key)) add(key, 'INVALID_ARGUMENT', `Unknown name "${key}": Cannot find field.`);
  if (request.encoding !== undefined && !['HEX', 'BASE64'].includes(String(request.encoding)))
    add('encoding', 'INVALID_ENUM_VALUE', 'Enum value cannot be used.');
  const destinations = request.destinations;
  if (!Array.isArray(destinations) || destinations.length < 1 || destinations.length > 10)
    add('destinations', 'REQUIRED_FIELD_MISSING', 'One to ten destinations are required.');
  else
    for (const [i, d] of (destinations as Array<Record<string, unknown>>).entries()) {
      for (const key of Object.keys(d))
        if (!DESTINATION_FIELDS.has(key))
          add(`destinations[${i}].${key}`, 'INVALID_ARGUMENT', 'Unknown field.');
      for (const name of ['operatingAccount', 'loginAccount'] as const) {
        const account = d[name] as Record<string, unknown> | undefined;
        if (account === undefined && name === 'loginAccount') continue;
        if (
          !account ||
          !ACCOUNT_TYPES.has(String(account.accountType)) ||
          !/^\d+$/.test(String(account.accountId))
        )
          add(`destinations[${i}].${name}`, 'INVALID_DESTINATION', 'This Destination is not valid.');
      }
      if (!/^\d+$/.test(String(d.productDestinationId)))
        add(
          `destinations[${i}].product_destination_id`,
          'INVALID_CONVERSION_ACTION_ID',
          'Conversion action ID is not valid.',
        );
    }
  const events = request.events;
  if (!Array.isArray(events) || events.length === 0) {
    add('events', 'REQUIRED_FIELD_MISSING', 'Required field is missing.');
    return out;
  }
  if (events.length > 2000)
    add('events', 'TOO_MANY_EVENTS', 'Maximum number of events allowed per request is 2,000.');
  let hashed = false;
  for (const [i, e] of (events as unknown[]).entries()) {
    const at = `events.events[${i}]`;
    if (typeof e !== 'object' || e === null) {
      add(at, 'INVALID_ARGUMENT', 'The event is not an object.');
      continue;
    }
    const event = e as Record<string, unknown>;
    for (const key of Object.keys(event))
      if (!EVENT_FIELDS.has(key))
        add(`${at}.${key}`, 'INVALID_ARGUMENT', `Unknown name "${key}": Cannot find field.`);
    if (typeof event.eventTimestamp !== 'string' || !RFC3339.test(event.eventTimestamp))
      add(`${at}.event_timestamp`, 'INVALID_FORMAT', 'Format is invalid.');
    if (event.lastUpdatedTimestamp !== undefined && !RFC3339.test(String(event.lastUpdatedTimestamp)))
      add(`${at}.last_updated_timestamp`, 'INVALID_FORMAT', 'Format is invalid.');
    if (!EVENT_SOURCES.has(String(event.eventSource)))
      add(
        `${at}.event_source`,
        'REQUIRED_FIELD_MISSING',
        'An event source is required for offline conversions.',
      );
    if (typeof event.transactionId !== 'string' || event.transactionId.length === 0)
      add(`${at}.transaction_id`, 'REQUIRED_FIELD_MISSING', 'Required field is missing.');
    if (
      event.conversionValue !== undefined &&
      (typeof event.conversionValue !== 'number' || event.conversionValue < 0)
    )
      add(`${at}.conversion_value`, 'INVALID_NUMBER_FORMAT', 'Invalid number format.');
    if (event.currency !== undefined && !/^[A-Z]{3}$/.test(String(event.currency)))
      add(`${at}.currency`, 'INVALID_CURRENCY_CODE', 'Currency code is not valid.');
    const ids = (event.adIdentifiers ?? {}) as Record<string, unknown>;
    for (const key of Object.keys(ids))
      if (!AD_IDENTIFIER_FIELDS.has(key))
        add(`${at}.ad_identifiers.${key}`, 'INVALID_ARGUMENT', 'Unknown field.');
    const clicks = ['gclid', 'gbraid', 'wbraid'].filter((k) => ids[k] !== undefined);
    // An enhanced conversion for leads has no adIdentifiers: userData is what matches it.
    const userDataOnly = event.adIdentifiers === undefined && event.userData !== undefined;
    if (event.adIdentifiers === undefined && event.userData === undefined)
      add(`${at}`, 'NO_IDENTIFIERS_PROVIDED', 'The event has no ad identifiers and no user data.');
    else if (!userDataOnly && clicks.length !== 1)
      add(
        `${at}.ad_identifiers`,
        'INVALID_AD_IDENTIFIERS',
        'Exactly one of gclid, gbraid and wbraid is required.',
      );
    if (event.consent !== undefined) {
      const consent = event.consent as Record<string, unknown>;
      for (const [key, value] of Object.entries(consent))
        if (!['adUserData', 'adPersonalization'].includes(key) || !CONSENT_VALUES.has(String(value)))
          add(`${at}.consent.${key}`, 'INVALID_ENUM_VALUE', 'Enum value cannot be used.');
    }
    if (event.userData !== undefined) {
      hashed = true;
      const identifiers = (event.userData as { userIdentifiers?: unknown }).userIdentifiers;
      if (!Array.isArray(identifiers) || identifiers.length === 0 || identifiers.length > 10)
        add(`${at}.user_data`, 'TOO_MANY_USER_IDENTIFIERS', 'One to ten user identifiers are allowed.');
      else
        for (const [j, identifier] of (identifiers as Array<Record<string, unknown>>).entries()) {
          const keys = Object.keys(identifier);
          const value = identifier[keys[0] as string];
          if (keys.length !== 1 || !['emailAddress', 'phoneNumber', 'address'].includes(keys[0] as string))
            add(`${at}.user_data.user_identifiers[${j}]`, 'INVALID_ARGUMENT', 'Unknown field.');
          else if (!SHA256_HEX.test(String(value)))
            add(
              `${at}.user_data.user_identifiers[${j}]`,
              'INVALID_HEX_ENCODING',
              'The HEX encoded value is malformed.',
            );
        }
    }
  }
  if (hashed && request.encoding !== 'HEX' && request.encoding !== 'BASE64')
    add('encoding', 'REQUIRED_FIELD_MISSING', 'The encoding of user identifiers is required.');
  return out;
}

const clickOf = (event: Record<string, unknown>) => {
  const ids = (event.adIdentifiers ?? {}) as Record<string, string>;
  return ids.gclid ?? ids.gbraid ?? ids.wbraid ?? '';
};

/** A Data Manager error without field violations; with `retry`, a RetryInfo of that delay. */
const dmError = (status: number, name: string, message: string, retry?: string) => {
  const body = dataManagerError(status, name, message);
  if (retry)
    body.error.details.push({
      '@type': 'type.googleapis.com/google.rpc.RetryInfo',
      retryDelay: retry,
    } as never);
  return body;
};

/** Data Manager's refusal of a token it did not issue (401) or issued without its scope (403). */
function refusedToken(scopes: string[] | undefined): [number, unknown] | undefined {
  if (!scopes)
    return [401, dmError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.')];
  if (!scopes.includes(DATA_MANAGER_SCOPE))
    return [403, dmError(403, 'PERMISSION_DENIED', 'Request had insufficient authentication scopes.')];
  return undefined;
}

export function googleDataManager(commands: DataManagerCommands, scopesOf: BearerScopes): GoogleDataManager {
  const ingests: RecordedIngest[] = [];
  const statusReads: RecordedStatusRead[] = [];
  /** Accepted requests: their events, for the status read. */
  const accepted = new Map<string, { events: Array<Record<string, unknown>>; reads: number }>();

  /** Delay, throttling and outages on command: Google's answer when one applies. */
  async function interfere(
    answer: (status: number, payload: unknown) => FakeReply,
  ): Promise<FakeReply | undefined> {
    if (commands.delayMs > 0) await new Promise((r) => setTimeout(r, commands.delayMs));
    const fault = commandedFault(commands, dmError);
    return fault && answer(...fault);
  }

  async function ingest(req: FakeRequest): Promise<FakeReply> {
    const body = req.jsonOrText();
    const record: RecordedIngest = { headers: recordedHeaders(req), body, status: 0 };
    const answer = recordedReply(ingests, record, googleJson);
    const refused = refusedToken(scopesOf(req));
    if (refused) return answer(...refused);
    const interfered = await interfere(answer);
    if (interfered) return interfered;
    if (!/^application\/json/.test(req.headers['content-type'] ?? ''))
      return answer(400, dmError(400, 'INVALID_ARGUMENT', 'Content-Type must be application/json'));
    const violations = ingestViolations(body);
    const events = ((body as { events?: unknown }).events ?? []) as Array<Record<string, unknown>>;
    if (violations.length === 0 && Array.isArray(events)) {
      for (const [i, event] of events.entries()) {
        const reason = commands.badEvents.get(clickOf(event));
        if (reason)
          violations.push({
            field: `events.events[${i}].ad_identifiers.gclid`,
            reason,
            description: reason === 'INVALID_FORMAT' ? 'Format is invalid.' : 'The event is not valid.',
          });
      }
    }
    if (violations.length)
      return answer(
        400,
        dataManagerError(400, 'INVALID_ARGUMENT', 'There was a problem with the request.', violations),
      );
    if (events.some((event) => commands.unlocatedBadEvents.has(clickOf(event))))
      return answer(400, dataManagerError(400, 'INVALID_ARGUMENT', 'There was a problem with the request.'));
    // Enhanced conversions for leads refused for the destination account's setup: the request
    // fails whole (fast-fail), the reason in ErrorInfo and on each event without a click.
    const destinations = ((body as { destinations?: unknown }).destinations ?? []) as Array<{
      operatingAccount?: { accountId?: string };
    }>;
    const account = destinations[0]?.operatingAccount?.accountId ?? '';
    const refusal = commands.userDataRefusals.get(account);
    const userDataEvents = events.flatMap((event, i) => (event.adIdentifiers === undefined ? [i] : []));
    if (refusal && userDataEvents.length) {
      const { dataManager, message } = ENHANCED_CONVERSIONS_REFUSALS[refusal];
      const refused = dataManagerError(
        400,
        'INVALID_ARGUMENT',
        message,
        userDataEvents.map((i) => ({
          field: `events.events[${i}]`,
          reason: dataManager,
          description: message,
        })),
      );
      (refused.error.details[0] as { reason: string }).reason = dataManager;
      return answer(400, refused);
    }
    const validateOnly = (body as { validateOnly?: boolean }).validateOnly === true;
    const requestId = `${validateOnly ? 'v' : 'r'}-${randomUUID()}`;
    record.requestId = requestId;
    if (!validateOnly) accepted.set(requestId, { events, reads: 0 });
    // IngestEventsResponse: `fieldWarnings` lists FieldWarning {reason, description, field}, the
    // field path in the format of BadRequest.FieldViolation.field; absent when there are none.
    const fieldWarnings = events.flatMap((event, i) => {
      const warning = commands.fieldWarnings.get(clickOf(event));
      return warning
        ? [
            {
              reason: warning.reason,
              description: 'The field is invalid and was ignored; the rest of the event was ingested.',
              field: `events.events[${i}].${warning.field}`,
            },
          ]
        : [];
    });
    return answer(200, { requestId, ...(fieldWarnings.length > 0 ? { fieldWarnings } : {}) });
  }

  function requestStatus(req: FakeRequest): FakeReply {
    const requestId = req.url.searchParams.get('requestId') ?? '';
    const answer = (status: number, payload: unknown) => {
      statusReads.push({ requestId, status });
      return googleJson(status, payload);
    };
    const refused = refusedToken(scopesOf(req));
    if (refused) return answer(...refused);
    const found = accepted.get(requestId);
    if (!found) return answer(404, dmError(404, 'NOT_FOUND', 'Resource not found.'));
    found.reads += 1;
    const processing = found.reads <= commands.processingReads;
    const errors = new Map<string, number>();
    for (const event of found.events) {
      const reason = commands.processingErrors.get(clickOf(event));
      if (reason) errors.set(reason, (errors.get(reason) ?? 0) + 1);
    }
    const failed = [...errors.values()].reduce((a, b) => a + b, 0);
    return answer(200, {
      requestStatusPerDestination: [
        {
          requestStatus: processing
            ? 'PROCESSING'
            : failed === 0
              ? 'SUCCESS'
              : failed === found.events.length
                ? 'FAILED'
                : 'PARTIAL_SUCCESS',
          eventsIngestionStatus: { recordCount: String(found.events.length) },
          ...(!processing && failed
            ? {
                errorInfo: {
                  errorCounts: [...errors].map(([reason, count]) => ({ recordCount: String(count), reason })),
                },
              }
            : {}),
        },
      ],
    });
  }

  return {
    routes: [
      route('POST', '/v1/events:ingest', ingest),
      route('GET', '/v1/requestStatus:retrieve', requestStatus),
    ],
    ingests,
    statusReads,
    reset() {
      ingests.length = 0;
      statusReads.length = 0;
    },
  };
}
