import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { type FakeReply, type FakeRequest, type FakeSurface, json, recordedReply, route } from './http-fake';

/**
 * Meta's Conversions API (`POST /{version}/{pixel}/events` on the Graph API) as the local Meta
 * fake serves it. It validates bodies
 * the way Meta does and answers in the Graph API's wire format: one error for the whole request
 * (`{error: {message, type, code, error_subcode, is_transient, error_user_title,
 * error_user_msg, fbtrace_id}}`, no index of the bad event) when any event is invalid, else
 * `{events_received, messages, fbtrace_id}`. It checks hash shapes, the fbc format, the
 * 1,000-event cap, the 7-day rule and what a `website` event needs; on command it answers 190
 * for revoked tokens, throttling codes, transient 5xx, 2635 for a deprecated version, refuses
 * chosen event ids, or answers slowly. It also refuses a token in the URL, which the product must
 * never send.
 */
export interface RecordedMetaRequest {
  version: string;
  pixelId: string;
  headers: Record<string, string | undefined>;
  /** The query string as received (never expected to hold anything). */
  query: string;
  body: unknown;
  status: number;
}

/** An event Meta took, with the pixel and test code it came with. */
export interface ReceivedMetaEvent {
  pixelId: string;
  testEventCode?: string;
  event: Record<string, unknown>;
}

export interface FakeMetaCommands {
  /** Tokens answered with OAuthException 190 (expired or revoked). */
  revokedTokens: Set<string>;
  /** The next N requests answer with this throttling code (4, 17, 32, 613, 80004). */
  throttle: { times: number; code: number };
  /** The next N requests answer 500 with code 2 and is_transient. */
  serverErrors: number;
  /** Requests wait this long before answering. */
  delayMs: number;
  /** Event ids Meta refuses (the whole request fails with code 100 while one is in it). */
  rejectEventIds: Set<string>;
  /** Versions answered with 2635 (deprecated). */
  deprecatedVersions: Set<string>;
}

export interface MetaConversionsApi extends FakeSurface {
  readonly requests: RecordedMetaRequest[];
  readonly received: ReceivedMetaEvent[];
  readonly commands: FakeMetaCommands;
}

const freshCommands = (): FakeMetaCommands => ({
  revokedTokens: new Set(),
  throttle: { times: 0, code: 17 },
  serverErrors: 0,
  delayMs: 0,
  rejectEventIds: new Set(),
  deprecatedVersions: new Set(),
});

const ACTION_SOURCES = new Set([
  'email',
  'website',
  'app',
  'phone_call',
  'chat',
  'physical_store',
  'system_generated',
  'business_messaging',
  'other',
]);
const BODY_FIELDS = new Set(['data', 'test_event_code', 'partner_agent']);
const EVENT_FIELDS = new Set([
  'event_name',
  'event_time',
  'event_id',
  'event_source_url',
  'action_source',
  'opt_out',
  'user_data',
  'custom_data',
  'app_data',
  'data_processing_options',
  'data_processing_options_country',
  'data_processing_options_state',
  'referrer_url',
  'messaging_channel',
  'original_event_data',
  'attribution_data',
]);
const HASHED = new Set(['em', 'ph', 'fn', 'ln', 'ge', 'db', 'ct', 'st', 'zp', 'country', 'external_id']);
const PLAIN = new Set([
  'client_ip_address',
  'client_user_agent',
  'fbc',
  'fbp',
  'subscription_id',
  'fb_login_id',
  'lead_id',
  'page_id',
  'page_scoped_user_id',
  'ctwa_clid',
  'ig_account_id',
  'ig_sid',
  'anon_id',
  'madid',
]);
const CUSTOM_FIELDS = new Set([
  'value',
  'currency',
  'order_id',
  'content_ids',
  'content_name',
  'content_type',
  'contents',
  'num_items',
  'predicted_ltv',
  'search_string',
  'status',
  'delivery_category',
  'content_category',
]);
const SHA256_HEX = /^[0-9a-f]{64}$/;
const FBC = /^fb\.[0-2]\.\d{13}\.[A-Za-z0-9_-]+$/;
const SEVEN_DAYS = 7 * 86_400;
const MAX_EVENTS = 1000;

const THROTTLE_MESSAGES: Record<number, string> = {
  4: 'Application request limit reached',
  17: 'User request limit reached',
  32: 'Page request limit reached',
  613: 'Calls to this api have exceeded the rate limit.',
  80004: 'There have been too many calls to this ad-account. Wait a bit and try again.',
};

const traceId = () => randomBytes(16).toString('base64url').slice(0, 23);

interface GraphErrorBody {
  message: string;
  type: string;
  code: number;
  error_subcode?: number;
  is_transient: boolean;
  error_user_title?: string;
  error_user_msg?: string;
  fbtrace_id: string;
}

function graphError(
  code: number,
  message: string,
  extra: Partial<Omit<GraphErrorBody, 'code' | 'message' | 'fbtrace_id'>> = {},
): { error: GraphErrorBody } {
  return {
    error: { message, type: 'OAuthException', code, is_transient: false, ...extra, fbtrace_id: traceId() },
  };
}

/** Meta's answer to an invalid parameter: code 100 with a title and a message for the user. */
const invalid = (title: string, userMessage: string, subcode?: number) =>
  graphError(100, 'Invalid parameter', {
    ...(subcode !== undefined ? { error_subcode: subcode } : {}),
    error_user_title: title,
    error_user_msg: userMessage,
  });

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Why Meta refuses this event, as its error body, or undefined. */
function eventError(raw: unknown, index: number, now: number, commands: FakeMetaCommands) {
  const at = `data[${index}]`;
  if (!isObject(raw)) return invalid('Invalid Event', `${at} is not an object`);
  for (const key of Object.keys(raw))
    if (!EVENT_FIELDS.has(key)) return invalid('Invalid Parameter', `${at}: unknown parameter ${key}`);
  if (typeof raw.event_name !== 'string' || raw.event_name === '')
    return invalid('Missing Event Name', `${at}: event_name is required`);
  if (typeof raw.event_time !== 'number' || !Number.isInteger(raw.event_time))
    return invalid('Invalid Event Time', `${at}: event_time must be a Unix timestamp in seconds`);
  if (raw.event_time < now - SEVEN_DAYS)
    return invalid(
      'Event Timestamp Too Old',
      'The timestamp for this event is too far in the past. Events need to be sent from your server within 7 days of when they occurred. Enter a timestamp that has occurred within the last 7 days.',
      2804003,
    );
  if (raw.event_time > now + 3600)
    return invalid('Event Timestamp In The Future', `${at}: event_time is in the future`);
  if (typeof raw.action_source !== 'string' || !ACTION_SOURCES.has(raw.action_source))
    return invalid('Invalid Action Source', `${at}: action_source is required and must be a known source`);
  if (raw.event_id !== undefined && (typeof raw.event_id !== 'string' || raw.event_id === ''))
    return invalid('Invalid Event ID', `${at}: event_id must be a string`);
  if (typeof raw.event_id === 'string' && commands.rejectEventIds.has(raw.event_id))
    return invalid('Invalid Event', `${at}: this event was refused`);
  const user = raw.user_data;
  if (!isObject(user) || Object.keys(user).length === 0)
    return invalid('Missing User Data', `${at}: user_data needs at least one customer information parameter`);
  for (const [key, value] of Object.entries(user)) {
    if (HASHED.has(key)) {
      const values = Array.isArray(value) ? value : [value];
      if (values.length === 0 || values.some((v) => typeof v !== 'string' || !SHA256_HEX.test(v)))
        return invalid('Unhashed Customer Information', `${at}: user_data.${key} must be SHA-256 hashed`);
    } else if (PLAIN.has(key)) {
      if (typeof value !== 'string' || value === '')
        return invalid('Invalid Parameter', `${at}: user_data.${key} must be a string`);
    } else return invalid('Invalid Parameter', `${at}: unknown user_data parameter ${key}`);
  }
  if (user.fbc !== undefined && !FBC.test(user.fbc as string))
    return invalid('Invalid fbc', `${at}: fbc must be fb.<subdomainIndex>.<creationTime ms>.<fbclid>`);
  if (user.client_ip_address !== undefined && isIP(user.client_ip_address as string) === 0)
    return invalid('Invalid IP Address', `${at}: client_ip_address is not an IP address`);
  if (raw.action_source === 'website') {
    if (typeof raw.event_source_url !== 'string' || !/^https?:\/\//.test(raw.event_source_url))
      return invalid('Missing Event Source URL', `${at}: a website event needs event_source_url`);
    if (user.client_user_agent === undefined)
      return invalid('Missing User Agent', `${at}: a website event needs client_user_agent`);
  }
  if (raw.custom_data !== undefined) {
    const custom = raw.custom_data;
    if (!isObject(custom)) return invalid('Invalid Custom Data', `${at}: custom_data must be an object`);
    for (const key of Object.keys(custom))
      if (!CUSTOM_FIELDS.has(key))
        return invalid('Invalid Parameter', `${at}: unknown custom_data parameter ${key}`);
    if (custom.value !== undefined && typeof custom.value !== 'number')
      return invalid('Invalid Value', `${at}: custom_data.value must be a number`);
    if (custom.currency !== undefined && !/^[A-Za-z]{3}$/.test(String(custom.currency)))
      return invalid('Invalid Currency Code', `${at}: custom_data.currency must be ISO 4217`);
  }
  if (raw.event_name === 'Purchase') {
    const custom = isObject(raw.custom_data) ? raw.custom_data : {};
    if (custom.value === undefined || custom.currency === undefined)
      return invalid('Missing Value or Currency', `${at}: a Purchase needs custom_data.value and currency`);
  }
  const options = raw.data_processing_options;
  if (options !== undefined) {
    if (!Array.isArray(options) || options.some((o) => o !== 'LDU'))
      return invalid('Invalid Data Processing Options', `${at}: data_processing_options holds only "LDU"`);
    for (const key of ['data_processing_options_country', 'data_processing_options_state'])
      if (raw[key] !== undefined && !Number.isInteger(raw[key]))
        return invalid('Invalid Data Processing Options', `${at}: ${key} must be an integer`);
  }
  return undefined;
}

/** The Graph API's answer to a path or method it does not serve. */
export const graphNotFound = (req: FakeRequest): FakeReply =>
  json(
    400,
    graphError(100, `Unsupported ${req.method} request. Object with ID '${req.path}' does not exist.`, {
      error_subcode: 33,
      type: 'GraphMethodException',
    }),
  );

/** The Graph API's answer to a failure of its own. */
export const graphFailure = (): FakeReply =>
  json(500, graphError(1, 'An unknown error occurred', { is_transient: true }));

export function metaConversionsApi(): MetaConversionsApi {
  const commands = freshCommands();
  const requests: RecordedMetaRequest[] = [];
  const received: ReceivedMetaEvent[] = [];

  async function events(req: FakeRequest): Promise<FakeReply> {
    const [version, pixelId] = req.params as [string, string];
    const body = req.jsonOrText();
    const headers = { authorization: req.headers.authorization, 'content-type': req.headers['content-type'] };
    const answer = recordedReply(
      requests,
      { version, pixelId, headers, query: req.url.search, body, status: 0 },
      json,
    );
    if (commands.delayMs > 0) await new Promise((r) => setTimeout(r, commands.delayMs));
    if (req.url.searchParams.has('access_token'))
      return answer(400, invalid('Token In URL', 'This fake refuses access tokens in the URL'));
    if (commands.deprecatedVersions.has(version))
      return answer(
        400,
        graphError(
          2635,
          `(#2635) You are calling a deprecated version of the Ads API. Please update to the latest version.`,
        ),
      );
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token)
      return answer(
        400,
        graphError(2500, 'An active access token must be used to query information about the current user.'),
      );
    if (commands.revokedTokens.has(token))
      return answer(
        400,
        graphError(
          190,
          'Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.',
          { error_subcode: 460 },
        ),
      );
    if (commands.throttle.times > 0) {
      commands.throttle.times -= 1;
      return answer(
        400,
        graphError(
          commands.throttle.code,
          `(#${commands.throttle.code}) ${THROTTLE_MESSAGES[commands.throttle.code] ?? 'Rate limit reached'}`,
          { is_transient: true },
        ),
      );
    }
    if (commands.serverErrors > 0) {
      commands.serverErrors -= 1;
      return answer(
        500,
        graphError(2, 'An unexpected error has occurred. Please retry your request later.', {
          is_transient: true,
        }),
      );
    }
    if (!/^application\/json/.test(req.headers['content-type'] ?? ''))
      return answer(400, invalid('Invalid Content Type', 'Send the body as application/json'));
    if (!isObject(body)) return answer(400, invalid('Invalid Body', 'The body is not a JSON object'));
    for (const key of Object.keys(body))
      if (!BODY_FIELDS.has(key)) return answer(400, invalid('Invalid Parameter', `Unknown parameter ${key}`));
    if (body.test_event_code !== undefined && typeof body.test_event_code !== 'string')
      return answer(400, invalid('Invalid Test Event Code', 'test_event_code must be a string'));
    if (!Array.isArray(body.data) || body.data.length === 0)
      return answer(400, invalid('Missing Data', 'The parameter data is required'));
    if (body.data.length > MAX_EVENTS)
      return answer(400, invalid('Too Many Events', `data holds at most ${MAX_EVENTS} events`));
    const now = Math.floor(Date.now() / 1000);
    for (const [index, event] of body.data.entries()) {
      const error = eventError(event, index, now, commands);
      if (error) return answer(400, error);
    }
    for (const event of body.data as Array<Record<string, unknown>>)
      received.push({
        pixelId,
        ...(typeof body.test_event_code === 'string' ? { testEventCode: body.test_event_code } : {}),
        event,
      });
    return answer(200, { events_received: body.data.length, messages: [], fbtrace_id: traceId() });
  }

  return {
    routes: [route('POST', /\/(v\d+\.\d+)\/(\d+)\/events/, events)],
    requests,
    received,
    commands,
    reset() {
      requests.length = 0;
      received.length = 0;
      Object.assign(commands, freshCommands());
    },
  };
}
