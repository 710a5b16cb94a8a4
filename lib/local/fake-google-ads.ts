import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * A faithful fake of Google's Data Manager API, the Google Ads REST API and Google's OAuth
 * endpoints (token, and a consent screen at `/auth` that consents at once), for tests and for
 * `GOOGLE_ADS_FAKE=1 npm start`, on 127.0.0.1 and a free port.
 *
 * Data Manager: `POST /v1/events:ingest` validated strictly (Google's field names and enums,
 * exactly one ad identifier, RFC 3339 times, hex SHA-256 identifiers, ≤ 2,000 events), a bearer
 * token it issued with the `datamanager` scope; one bad event rejects the whole request (400
 * INVALID_ARGUMENT with `BadRequest.fieldViolations` naming `events.events[i]`), otherwise
 * `{requestId}`; `GET /v1/requestStatus:retrieve` answers per destination (PROCESSING first when
 * told, then SUCCESS or PARTIAL_SUCCESS with error counts by reason); an accepted request may
 * carry `fieldWarnings` for events told to have one.
 *
 * Google Ads API: `uploadClickConversions` and `uploadConversionAdjustments` bodies validated
 * strictly (camelCase names, date-time format, exactly one click id, resource names matching the
 * path's customer), answered in Google's wire format (`results[i]` is `{}` for a failed row,
 * `partialFailureError` located by `fieldPathElements`).
 *
 * Every request is recorded; on command it answers 429 with `retryDelay`, 5xx, slowly,
 * `invalid_grant`, a token without the Data Manager scope, `CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE`,
 * errors for chosen click ids or order ids, or an account's refusal of enhanced conversions for
 * leads (events with user data and no click id) in each API's words.
 */
export interface RecordedUpload {
  version: string;
  customerId: string;
  headers: Record<string, string | undefined>;
  body: unknown;
  status: number;
}

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

export interface RecordedAdjustment {
  customerId: string;
  body: unknown;
  status: number;
}

export const DATA_MANAGER_SCOPE = 'https://www.googleapis.com/auth/datamanager';
export const ADWORDS_SCOPE = 'https://www.googleapis.com/auth/adwords';

export interface RecordedTokenRequest {
  form: Record<string, string>;
  status: number;
}

export interface FakeCommands {
  /** Refresh tokens answered with 400 invalid_grant. */
  revokedRefreshTokens: Set<string>;
  /** The next N uploads answer 429 RESOURCE_EXHAUSTED with this retryDelay (`"1s"`). */
  rateLimit: { times: number; retryDelay: string };
  /** The next N uploads and adjustments answer 503 UNAVAILABLE. */
  serverErrors: number;
  /** Uploads wait this long before answering. */
  delayMs: number;
  /** Row errors by click id: `conversionUploadError` code. */
  rowErrors: Map<string, string>;
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
  /** Refresh tokens whose access tokens lack the Data Manager scope (connected before it was asked). */
  adwordsOnlyRefreshTokens: Set<string>;
  /** Google Ads API: the developer token is not allowlisted for click conversion uploads. */
  notAllowlisted: boolean;
  /** Google Ads API adjustments: row errors by order id. */
  adjustmentErrors: Map<string, string>;
  /**
   * Enhanced conversions for leads (conversions with user data and no click id) refused for the
   * account's setup, by customer id: Data Manager `ErrorReason` (e.g.
   * `DESTINATION_ACCOUNT_NOT_ENABLED_ENHANCED_CONVERSIONS_FOR_LEADS`); the Google Ads API answers
   * the matching `conversionUploadError` for each such row.
   */
  userDataRefusals: Map<string, EnhancedConversionsRefusal>;
}

/** Why an account refuses enhanced conversions for leads, as each API says it. */
export const ENHANCED_CONVERSIONS_REFUSALS = {
  not_enabled: {
    dataManager: 'DESTINATION_ACCOUNT_NOT_ENABLED_ENHANCED_CONVERSIONS_FOR_LEADS',
    googleAdsApi: 'CUSTOMER_NOT_ENABLED_ENHANCED_CONVERSIONS_FOR_LEADS',
    message: 'The destination account is not enabled for enhanced conversions for leads.',
  },
  terms_not_signed: {
    dataManager: 'DESTINATION_ACCOUNT_ENHANCED_CONVERSIONS_TERMS_NOT_SIGNED',
    googleAdsApi: 'CUSTOMER_NOT_ACCEPTED_CUSTOMER_DATA_TERMS',
    message: "The destination account hasn't agreed to the terms for enhanced conversions.",
  },
  data_policy: {
    dataManager: 'DESTINATION_ACCOUNT_DATA_POLICY_PROHIBITS_ENHANCED_CONVERSIONS',
    googleAdsApi: 'CUSTOMER_DATA_POLICY_PROHIBITS_ENHANCED_CONVERSIONS',
    message:
      "Enhanced conversions can't be used for the destination account because of Google customer data policies.",
  },
} as const;
export type EnhancedConversionsRefusal = keyof typeof ENHANCED_CONVERSIONS_REFUSALS;

export interface FakeGoogleAds {
  readonly baseUrl: string;
  readonly tokenUrl: string;
  readonly uploads: RecordedUpload[];
  readonly ingests: RecordedIngest[];
  readonly statusReads: RecordedStatusRead[];
  readonly adjustments: RecordedAdjustment[];
  readonly tokenRequests: RecordedTokenRequest[];
  readonly commands: FakeCommands;
  reset(): void;
  close(): Promise<void>;
}

const CONVERSION_FIELDS = new Set([
  'gclid',
  'gbraid',
  'wbraid',
  'conversionAction',
  'conversionDateTime',
  'conversionValue',
  'currencyCode',
  'orderId',
  'consent',
  'userIdentifiers',
  'externalAttributionData',
  'customVariables',
  'cartData',
  'conversionEnvironment',
]);
const REQUEST_FIELDS = new Set(['conversions', 'partialFailure', 'validateOnly', 'debugEnabled', 'jobId']);
const DATE_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const MESSAGES: Record<string, string> = {
  UNPARSEABLE_GCLID: 'The click ID could not be decoded.',
  EVENT_NOT_FOUND: 'The click associated with the given identifier or iOS URL parameter was not found.',
  EXPIRED_EVENT:
    'The click that the conversion is being attributed to happened before the click-through window.',
  TOO_RECENT_EVENT: 'The click associated with the given identifier is too recent.',
  CLICK_CONVERSION_ALREADY_EXISTS: 'This conversion has already been uploaded.',
};

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The request body as JSON, or its text when it is not JSON (recorded as sent, judged later). */
async function readJsonOrText(req: IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The headers a recorded Google request is checked on. */
function recordedHeaders(req: IncomingMessage) {
  return {
    authorization: req.headers.authorization,
    'developer-token': req.headers['developer-token'] as string | undefined,
    'login-customer-id': req.headers['login-customer-id'] as string | undefined,
    'content-type': req.headers['content-type'],
  };
}

function send(res: ServerResponse, status: number, body: unknown, requestId?: string): void {
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=UTF-8',
    ...(requestId ? { 'request-id': requestId } : {}),
  });
  res.end(JSON.stringify(body));
}

function googleError(
  status: number,
  statusName: string,
  message: string,
  errors?: unknown[],
  version = 'v25',
) {
  return {
    error: {
      code: status,
      message,
      status: statusName,
      ...(errors
        ? {
            details: [
              {
                '@type': `type.googleapis.com/google.ads.googleads.${version}.errors.GoogleAdsFailure`,
                errors,
                requestId: randomUUID().replace(/-/g, '').slice(0, 22),
              },
            ],
          }
        : {}),
    },
  };
}

/** Why the body is not what Google accepts, or undefined. */
function invalidBody(body: unknown, customerId: string): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body is not an object';
  const request = body as Record<string, unknown>;
  for (const key of Object.keys(request))
    if (!REQUEST_FIELDS.has(key)) return `Unknown name "${key}": Cannot find field.`;
  if (request.partialFailure !== true) return 'partialFailure must be true for click conversion uploads';
  if (!Array.isArray(request.conversions) || request.conversions.length === 0)
    return 'conversions is required';
  if (request.conversions.length > 2000) return 'Too many conversions in the request';
  for (const [i, c] of (request.conversions as unknown[]).entries()) {
    if (typeof c !== 'object' || c === null) return `conversions[${i}] is not an object`;
    const conversion = c as Record<string, unknown>;
    for (const key of Object.keys(conversion))
      if (!CONVERSION_FIELDS.has(key))
        return `Unknown name "${key}" at 'conversions[${i}]': Cannot find field.`;
    const clickIds = ['gclid', 'gbraid', 'wbraid'].filter((k) => conversion[k] !== undefined);
    // Enhanced conversions for leads: no click id, matched on userIdentifiers alone.
    const byUserData = clickIds.length === 0 && Array.isArray(conversion.userIdentifiers);
    if (clickIds.length > 1 || (clickIds.length === 0 && !byUserData))
      return `conversions[${i}] needs exactly one of gclid, gbraid, wbraid, or userIdentifiers`;
    if (byUserData && (conversion.userIdentifiers as unknown[]).length === 0)
      return `conversions[${i}].userIdentifiers must not be empty without a click id`;
    const action = conversion.conversionAction;
    if (
      typeof action !== 'string' ||
      !new RegExp(`^customers/${customerId}/conversionActions/\\d+$`).test(action)
    )
      return `conversions[${i}].conversionAction is not a conversion action of customer ${customerId}`;
    if (typeof conversion.conversionDateTime !== 'string' || !DATE_TIME.test(conversion.conversionDateTime))
      return `conversions[${i}].conversionDateTime must be yyyy-mm-dd hh:mm:ss+|-hh:mm`;
    if (conversion.conversionValue !== undefined && typeof conversion.conversionValue !== 'number')
      return `conversions[${i}].conversionValue must be a number`;
    if (conversion.currencyCode !== undefined && !/^[A-Z]{3}$/.test(String(conversion.currencyCode)))
      return `conversions[${i}].currencyCode must be an ISO 4217 code`;
    if (conversion.consent !== undefined) {
      const consent = conversion.consent as Record<string, unknown>;
      if (Object.keys(consent).some((k) => k !== 'adUserData' && k !== 'adPersonalization'))
        return `conversions[${i}].consent has an unknown field`;
      if (!['GRANTED', 'DENIED'].includes(String(consent.adUserData)))
        return `conversions[${i}].consent.adUserData must be GRANTED or DENIED`;
    }
    if (conversion.userIdentifiers !== undefined) {
      if (!Array.isArray(conversion.userIdentifiers))
        return `conversions[${i}].userIdentifiers must be a list`;
      for (const identifier of conversion.userIdentifiers as Array<Record<string, unknown>>) {
        const keys = Object.keys(identifier);
        if (keys.length !== 1 || !['hashedEmail', 'hashedPhoneNumber'].includes(keys[0] as string))
          return `conversions[${i}].userIdentifiers entries hold one of hashedEmail, hashedPhoneNumber`;
        if (!SHA256_HEX.test(String(identifier[keys[0] as string])))
          return `conversions[${i}].userIdentifiers must be SHA-256 hex`;
      }
    }
  }
  return undefined;
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

export async function startFakeGoogleAds(): Promise<FakeGoogleAds> {
  const uploads: RecordedUpload[] = [];
  const ingests: RecordedIngest[] = [];
  const statusReads: RecordedStatusRead[] = [];
  const adjustments: RecordedAdjustment[] = [];
  const tokenRequests: RecordedTokenRequest[] = [];
  /** Access tokens issued, with the scopes granted. */
  const issued = new Map<string, string[]>();
  /** Scopes the consent screen granted, by authorization code. */
  const codeScopes = new Map<string, string[]>();
  /** Accepted Data Manager requests: their events, for the status read. */
  const accepted = new Map<string, { events: Array<Record<string, unknown>>; reads: number }>();
  const retracted = new Set<string>();
  const fresh = (): FakeCommands => ({
    revokedRefreshTokens: new Set(),
    rateLimit: { times: 0, retryDelay: '1s' },
    serverErrors: 0,
    delayMs: 0,
    rowErrors: new Map(),
    badEvents: new Map(),
    unlocatedBadEvents: new Set(),
    fieldWarnings: new Map(),
    processingErrors: new Map(),
    processingReads: 0,
    adwordsOnlyRefreshTokens: new Set(),
    notAllowlisted: false,
    adjustmentErrors: new Map(),
    userDataRefusals: new Map(),
  });
  const commands: FakeCommands = fresh();
  const BOTH_SCOPES = [DATA_MANAGER_SCOPE, ADWORDS_SCOPE];

  /** The bearer token's scopes, when it is one the fake issued. */
  const bearerScopes = (req: IncomingMessage) => {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    return bearer ? issued.get(bearer) : undefined;
  };

  /** Throttling and outages, shared by every API: an answer was given when true. */
  async function interfere(
    answer: (status: number, payload: unknown) => void,
    error: (status: number, name: string, message: string, retry?: string) => unknown,
  ): Promise<boolean> {
    if (commands.delayMs > 0) await new Promise((r) => setTimeout(r, commands.delayMs));
    if (commands.rateLimit.times > 0) {
      commands.rateLimit.times -= 1;
      answer(
        429,
        error(
          429,
          'RESOURCE_EXHAUSTED',
          'Resource has been exhausted (e.g. check quota).',
          commands.rateLimit.retryDelay,
        ),
      );
      return true;
    }
    if (commands.serverErrors > 0) {
      commands.serverErrors -= 1;
      answer(503, error(503, 'UNAVAILABLE', 'The service is currently unavailable.'));
      return true;
    }
    return false;
  }

  const dmError = (status: number, name: string, message: string, retry?: string) => {
    const body = dataManagerError(status, name, message);
    if (retry)
      body.error.details.push({
        '@type': 'type.googleapis.com/google.rpc.RetryInfo',
        retryDelay: retry,
      } as never);
    return body;
  };

  async function ingest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJsonOrText(req);
    const record: RecordedIngest = {
      headers: recordedHeaders(req),
      body,
      status: 0,
    };
    ingests.push(record);
    const answer = (status: number, payload: unknown) => {
      record.status = status;
      send(res, status, payload);
    };
    const scopes = bearerScopes(req);
    if (!scopes)
      return answer(401, dmError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.'));
    if (!scopes.includes(DATA_MANAGER_SCOPE))
      return answer(
        403,
        dmError(403, 'PERMISSION_DENIED', 'Request had insufficient authentication scopes.'),
      );
    if (await interfere(answer, dmError)) return;
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

  async function requestStatus(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const requestId = url.searchParams.get('requestId') ?? '';
    const answer = (status: number, payload: unknown) => {
      statusReads.push({ requestId, status });
      send(res, status, payload);
    };
    const scopes = bearerScopes(req);
    if (!scopes)
      return answer(401, dmError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.'));
    if (!scopes.includes(DATA_MANAGER_SCOPE))
      return answer(
        403,
        dmError(403, 'PERMISSION_DENIED', 'Request had insufficient authentication scopes.'),
      );
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

  async function token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = Object.fromEntries(new URLSearchParams(await readBody(req)));
    const answer = (status: number, body: unknown) => {
      tokenRequests.push({ form, status });
      send(res, status, body);
    };
    if (!/^application\/x-www-form-urlencoded/.test(req.headers['content-type'] ?? ''))
      return answer(400, { error: 'invalid_request', error_description: 'form body required' });
    if (form.grant_type === 'authorization_code') {
      if (!form.code || !form.client_id || !form.client_secret || !form.redirect_uri)
        return answer(400, { error: 'invalid_request', error_description: 'Missing required parameter' });
      if (!form.code.startsWith('good-'))
        return answer(400, { error: 'invalid_grant', error_description: 'Malformed auth code.' });
      const accessToken = `ya29.fake-${randomUUID()}`;
      const scopes = codeScopes.get(form.code) ?? BOTH_SCOPES;
      issued.set(accessToken, scopes);
      if (!scopes.includes(DATA_MANAGER_SCOPE))
        commands.adwordsOnlyRefreshTokens.add(`1//refresh-for-${form.code}`);
      return answer(200, {
        access_token: accessToken,
        refresh_token: `1//refresh-for-${form.code}`,
        expires_in: 3599,
        scope: scopes.join(' '),
        token_type: 'Bearer',
      });
    }
    if (form.grant_type !== 'refresh_token' || !form.client_id || !form.client_secret || !form.refresh_token)
      return answer(400, { error: 'invalid_request', error_description: 'Missing required parameter' });
    if (commands.revokedRefreshTokens.has(form.refresh_token))
      return answer(400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
    const accessToken = `ya29.fake-${randomUUID()}`;
    const scopes = commands.adwordsOnlyRefreshTokens.has(form.refresh_token) ? [ADWORDS_SCOPE] : BOTH_SCOPES;
    issued.set(accessToken, scopes);
    return answer(200, {
      access_token: accessToken,
      expires_in: 3599,
      scope: scopes.join(' '),
      token_type: 'Bearer',
    });
  }

  async function upload(req: IncomingMessage, res: ServerResponse, version: string, customerId: string) {
    const body = await readJsonOrText(req);
    const requestId = randomUUID().replace(/-/g, '').slice(0, 22);
    const record: RecordedUpload = {
      version,
      customerId,
      headers: recordedHeaders(req),
      body,
      status: 0,
    };
    uploads.push(record);
    const answer = (status: number, payload: unknown) => {
      record.status = status;
      send(res, status, payload, requestId);
    };
    if (commands.delayMs > 0) await new Promise((r) => setTimeout(r, commands.delayMs));
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer || !issued.has(bearer))
      return answer(
        401,
        googleError(
          401,
          'UNAUTHENTICATED',
          'Request had invalid authentication credentials.',
          [{ errorCode: { authenticationError: 'OAUTH_TOKEN_INVALID' }, message: 'Oauth token is invalid.' }],
          version,
        ),
      );
    if (commands.rateLimit.times > 0) {
      commands.rateLimit.times -= 1;
      return answer(
        429,
        googleError(
          429,
          'RESOURCE_EXHAUSTED',
          'Resource has been exhausted (e.g. check quota).',
          [
            {
              errorCode: { quotaError: 'RESOURCE_EXHAUSTED' },
              message: `Too many requests. Retry in ${commands.rateLimit.retryDelay}.`,
              details: {
                quotaErrorDetails: {
                  rateScope: 'DEVELOPER',
                  rateName: 'Number of operations',
                  retryDelay: commands.rateLimit.retryDelay,
                },
              },
            },
          ],
          version,
        ),
      );
    }
    if (commands.serverErrors > 0) {
      commands.serverErrors -= 1;
      return answer(503, googleError(503, 'UNAVAILABLE', 'The service is currently unavailable.'));
    }
    if (commands.notAllowlisted)
      return answer(
        403,
        googleError(
          403,
          'PERMISSION_DENIED',
          'The caller does not have permission',
          [
            {
              errorCode: { notAllowlistedError: 'CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE' },
              message: 'The customer is not allowlisted for this feature.',
            },
          ],
          version,
        ),
      );
    if (!/^application\/json/.test(req.headers['content-type'] ?? ''))
      return answer(400, googleError(400, 'INVALID_ARGUMENT', 'Content-Type must be application/json'));
    const invalid = invalidBody(body, customerId);
    if (invalid)
      return answer(
        400,
        googleError(
          400,
          'INVALID_ARGUMENT',
          `Invalid JSON payload received. ${invalid}`,
          [{ errorCode: { requestError: 'INVALID_INPUT' }, message: invalid }],
          version,
        ),
      );
    const conversions = (body as { conversions: Array<Record<string, string>> }).conversions;
    const results: Array<Record<string, string>> = [];
    const errors: unknown[] = [];
    const refusal = commands.userDataRefusals.get(customerId);
    for (const [index, c] of conversions.entries()) {
      const clickType = (['gclid', 'gbraid', 'wbraid'] as const).find((k) => c[k] !== undefined);
      if (clickType === undefined) {
        // Enhanced conversions for leads: refused for the account's setup, else accepted.
        if (refusal) {
          const { googleAdsApi, message } = ENHANCED_CONVERSIONS_REFUSALS[refusal];
          results.push({});
          errors.push({
            errorCode: { conversionUploadError: googleAdsApi },
            message,
            location: { fieldPathElements: [{ fieldName: 'conversions', index }] },
          });
        } else
          results.push({
            conversionAction: c.conversionAction as string,
            conversionDateTime: c.conversionDateTime as string,
          });
        continue;
      }
      const code = commands.rowErrors.get(c[clickType] as string);
      if (code) {
        results.push({});
        errors.push({
          errorCode: { conversionUploadError: code },
          message: MESSAGES[code] ?? code,
          trigger: { stringValue: c[clickType] },
          location: { fieldPathElements: [{ fieldName: 'conversions', index }, { fieldName: clickType }] },
        });
      } else {
        results.push({
          [clickType]: c[clickType] as string,
          conversionAction: c.conversionAction as string,
          conversionDateTime: c.conversionDateTime as string,
        });
      }
    }
    return answer(200, {
      results,
      ...(errors.length
        ? {
            partialFailureError: {
              code: 3,
              message:
                errors.length === 1
                  ? (errors[0] as { message: string }).message
                  : 'Multiple errors in ‘details’. First error: ...',
              details: [
                {
                  '@type': `type.googleapis.com/google.ads.googleads.${version}.errors.GoogleAdsFailure`,
                  errors,
                  requestId,
                },
              ],
            },
          }
        : {}),
    });
  }

  async function adjust(req: IncomingMessage, res: ServerResponse, version: string, customerId: string) {
    const body = await readJsonOrText(req);
    const requestId = randomUUID().replace(/-/g, '').slice(0, 22);
    const record: RecordedAdjustment = { customerId, body, status: 0 };
    adjustments.push(record);
    const answer = (status: number, payload: unknown) => {
      record.status = status;
      send(res, status, payload, requestId);
    };
    if (commands.serverErrors > 0) {
      commands.serverErrors -= 1;
      return answer(503, googleError(503, 'UNAVAILABLE', 'The service is currently unavailable.'));
    }
    const scopes = bearerScopes(req);
    if (!scopes?.includes(ADWORDS_SCOPE))
      return answer(
        401,
        googleError(
          401,
          'UNAUTHENTICATED',
          'Request had invalid authentication credentials.',
          [{ errorCode: { authenticationError: 'OAUTH_TOKEN_INVALID' }, message: 'Oauth token is invalid.' }],
          version,
        ),
      );
    const failWith = (message: string) =>
      answer(
        400,
        googleError(
          400,
          'INVALID_ARGUMENT',
          `Invalid JSON payload received. ${message}`,
          [{ errorCode: { requestError: 'INVALID_INPUT' }, message }],
          version,
        ),
      );
    const request = body as Record<string, unknown>;
    if (typeof request !== 'object' || request === null) return failWith('body is not an object');
    for (const key of Object.keys(request))
      if (!['conversionAdjustments', 'partialFailure', 'validateOnly', 'jobId'].includes(key))
        return failWith(`Unknown name "${key}": Cannot find field.`);
    if (request.partialFailure !== true) return failWith('partialFailure must be true');
    const list = request.conversionAdjustments;
    if (!Array.isArray(list) || list.length === 0 || list.length > 2000)
      return failWith('conversionAdjustments must hold 1 to 2,000 adjustments');
    const results: unknown[] = [];
    const errors: unknown[] = [];
    for (const [index, a] of (list as Array<Record<string, unknown>>).entries()) {
      for (const key of Object.keys(a))
        if (
          ![
            'conversionAction',
            'adjustmentType',
            'adjustmentDateTime',
            'orderId',
            'gclidDateTimePair',
            'restatementValue',
            'userIdentifiers',
            'userAgent',
          ].includes(key)
        )
          return failWith(`Unknown name "${key}" at 'conversionAdjustments[${index}]': Cannot find field.`);
      if (!new RegExp(`^customers/${customerId}/conversionActions/\\d+$`).test(String(a.conversionAction)))
        return failWith(
          `conversionAdjustments[${index}].conversionAction is not a conversion action of customer ${customerId}`,
        );
      if (!['RETRACTION', 'RESTATEMENT'].includes(String(a.adjustmentType)))
        return failWith(`conversionAdjustments[${index}].adjustmentType is not valid`);
      if (!DATE_TIME.test(String(a.adjustmentDateTime)))
        return failWith(
          `conversionAdjustments[${index}].adjustmentDateTime must be yyyy-mm-dd hh:mm:ss+|-hh:mm`,
        );
      if (typeof a.orderId !== 'string' || !a.orderId)
        return failWith(`conversionAdjustments[${index}] needs an orderId`);
      const restatement = a.restatementValue as Record<string, unknown> | undefined;
      if (a.adjustmentType === 'RESTATEMENT' && typeof restatement?.adjustedValue !== 'number')
        return failWith(`conversionAdjustments[${index}].restatementValue.adjustedValue is required`);
      if (a.adjustmentType === 'RETRACTION' && restatement !== undefined)
        return failWith(`conversionAdjustments[${index}]: a retraction takes no restatementValue`);
      const key = `${a.conversionAction}/${a.orderId}`;
      const code =
        commands.adjustmentErrors.get(a.orderId) ??
        (retracted.has(key) ? 'CONVERSION_ALREADY_RETRACTED' : undefined);
      if (code) {
        results.push({});
        errors.push({
          errorCode: { conversionAdjustmentUploadError: code },
          message: code,
          location: { fieldPathElements: [{ fieldName: 'conversion_adjustments', index }] },
        });
        continue;
      }
      if (a.adjustmentType === 'RETRACTION') retracted.add(key);
      results.push({
        conversionAction: a.conversionAction,
        adjustmentDateTime: a.adjustmentDateTime,
        adjustmentType: a.adjustmentType,
        orderId: a.orderId,
      });
    }
    return answer(200, {
      results,
      ...(errors.length
        ? {
            partialFailureError: {
              code: 3,
              message: 'Adjustment errors',
              details: [
                {
                  '@type': `type.googleapis.com/google.ads.googleads.${version}.errors.GoogleAdsFailure`,
                  errors,
                  requestId,
                },
              ],
            },
          }
        : {}),
    });
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const match = /^\/(v\d+)\/customers\/(\d+):uploadClickConversions$/.exec(url.pathname);
    const adjustment = /^\/(v\d+)\/customers\/(\d+):uploadConversionAdjustments$/.exec(url.pathname);
    if (req.method === 'GET' && url.pathname === '/auth') {
      // The consent screen, consented at once: back to the app with a code the token endpoint takes.
      const redirect = url.searchParams.get('redirect_uri');
      if (!redirect || !url.searchParams.get('state')) {
        send(res, 400, { error: 'invalid_request' });
        return;
      }
      const back = new URL(redirect);
      const code = `good-${randomUUID()}`;
      codeScopes.set(code, (url.searchParams.get('scope') ?? '').split(/\s+/).filter(Boolean));
      back.searchParams.set('code', code);
      back.searchParams.set('state', url.searchParams.get('state') as string);
      res.writeHead(302, { Location: back.toString() });
      res.end();
      return;
    }
    const handled =
      req.method === 'POST' && url.pathname === '/token'
        ? token(req, res)
        : req.method === 'POST' && match
          ? upload(req, res, match[1] as string, match[2] as string)
          : req.method === 'POST' && adjustment
            ? adjust(req, res, adjustment[1] as string, adjustment[2] as string)
            : req.method === 'POST' && url.pathname === '/v1/events:ingest'
              ? ingest(req, res)
              : req.method === 'GET' && url.pathname === '/v1/requestStatus:retrieve'
                ? requestStatus(req, res, url)
                : Promise.resolve(
                    send(res, 404, googleError(404, 'NOT_FOUND', `No route ${req.method} ${url.pathname}`)),
                  );
    handled.catch(() => send(res, 500, googleError(500, 'INTERNAL', 'fake failed')));
  });
  const port = await new Promise<number>((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    baseUrl,
    tokenUrl: `${baseUrl}/token`,
    uploads,
    ingests,
    statusReads,
    adjustments,
    tokenRequests,
    commands,
    reset() {
      uploads.length = 0;
      ingests.length = 0;
      statusReads.length = 0;
      adjustments.length = 0;
      tokenRequests.length = 0;
      Object.assign(commands, fresh());
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
