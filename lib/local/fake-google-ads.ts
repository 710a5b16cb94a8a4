import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * A faithful fake of the Google Ads REST API and Google's OAuth endpoints (token, and a consent
 * screen at `/auth` that consents at once), for tests and for `GOOGLE_ADS_FAKE=1 npm start`, on 127.0.0.1 and
 * a free port. It validates `uploadClickConversions` bodies strictly (camelCase names, date-time
 * format, exactly one click id, resource names matching the path's customer, bearer token it
 * issued), answers in Google's wire format (`results[i]` is `{}` for a failed row,
 * `partialFailureError` located by `fieldPathElements`), records every request, and on command
 * answers 429 with `retryDelay`, 5xx, slowly, `invalid_grant`, or row errors for chosen click ids.
 */
export interface RecordedUpload {
  version: string;
  customerId: string;
  headers: Record<string, string | undefined>;
  body: unknown;
  status: number;
}

export interface RecordedTokenRequest {
  form: Record<string, string>;
  status: number;
}

export interface FakeCommands {
  /** Refresh tokens answered with 400 invalid_grant. */
  revokedRefreshTokens: Set<string>;
  /** The next N uploads answer 429 RESOURCE_EXHAUSTED with this retryDelay (`"1s"`). */
  rateLimit: { times: number; retryDelay: string };
  /** The next N uploads answer 503 UNAVAILABLE. */
  serverErrors: number;
  /** Uploads wait this long before answering. */
  delayMs: number;
  /** Row errors by click id: `conversionUploadError` code. */
  rowErrors: Map<string, string>;
}

export interface FakeGoogleAds {
  readonly baseUrl: string;
  readonly tokenUrl: string;
  readonly uploads: RecordedUpload[];
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
    if (clickIds.length !== 1) return `conversions[${i}] needs exactly one of gclid, gbraid, wbraid`;
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

export async function startFakeGoogleAds(): Promise<FakeGoogleAds> {
  const uploads: RecordedUpload[] = [];
  const tokenRequests: RecordedTokenRequest[] = [];
  const issued = new Set<string>();
  const commands: FakeCommands = {
    revokedRefreshTokens: new Set(),
    rateLimit: { times: 0, retryDelay: '1s' },
    serverErrors: 0,
    delayMs: 0,
    rowErrors: new Map(),
  };

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
      issued.add(accessToken);
      return answer(200, {
        access_token: accessToken,
        refresh_token: `1//refresh-for-${form.code}`,
        expires_in: 3599,
        scope: 'https://www.googleapis.com/auth/adwords',
        token_type: 'Bearer',
      });
    }
    if (form.grant_type !== 'refresh_token' || !form.client_id || !form.client_secret || !form.refresh_token)
      return answer(400, { error: 'invalid_request', error_description: 'Missing required parameter' });
    if (commands.revokedRefreshTokens.has(form.refresh_token))
      return answer(400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
    const accessToken = `ya29.fake-${randomUUID()}`;
    issued.add(accessToken);
    return answer(200, {
      access_token: accessToken,
      expires_in: 3599,
      scope: 'https://www.googleapis.com/auth/adwords',
      token_type: 'Bearer',
    });
  }

  async function upload(req: IncomingMessage, res: ServerResponse, version: string, customerId: string) {
    const text = await readBody(req);
    const requestId = randomUUID().replace(/-/g, '').slice(0, 22);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    const record: RecordedUpload = {
      version,
      customerId,
      headers: {
        authorization: req.headers.authorization,
        'login-customer-id': req.headers['login-customer-id'] as string | undefined,
        'developer-token': req.headers['developer-token'] as string | undefined,
        'content-type': req.headers['content-type'],
      },
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
    for (const [index, c] of conversions.entries()) {
      const clickType = (['gclid', 'gbraid', 'wbraid'] as const).find((k) => c[k] !== undefined) as string;
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

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const match = /^\/(v\d+)\/customers\/(\d+):uploadClickConversions$/.exec(url.pathname);
    if (req.method === 'GET' && url.pathname === '/auth') {
      // The consent screen, consented at once: back to the app with a code the token endpoint takes.
      const redirect = url.searchParams.get('redirect_uri');
      if (!redirect || !url.searchParams.get('state')) {
        send(res, 400, { error: 'invalid_request' });
        return;
      }
      const back = new URL(redirect);
      back.searchParams.set('code', `good-${randomUUID()}`);
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
    tokenRequests,
    commands,
    reset() {
      uploads.length = 0;
      tokenRequests.length = 0;
      commands.revokedRefreshTokens.clear();
      commands.rateLimit = { times: 0, retryDelay: '1s' };
      commands.serverErrors = 0;
      commands.delayMs = 0;
      commands.rowErrors.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
