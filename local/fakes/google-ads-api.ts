import { randomUUID } from 'node:crypto';
import {
  type BearerScopes,
  commandedFault,
  ENHANCED_CONVERSIONS_REFUSALS,
  type GoogleFaultCommands,
  googleError,
  googleJson,
  recordedHeaders,
  SHA256_HEX,
} from './google-common';
import { ADWORDS_SCOPE } from './google-oauth';
import { type FakeRequest, type FakeSurface, recordedReply, route } from './http-fake';

/**
 * The Google Ads REST API as the local Google fake serves it: `uploadClickConversions` and
 * `uploadConversionAdjustments` bodies validated strictly (camelCase names, date-time format,
 * exactly one click id, resource names matching the path's customer), answered in Google's wire
 * format (`results[i]` is `{}` for a failed row, `partialFailureError` located by
 * `fieldPathElements`), with the bearer token checked against the tokens the OAuth fake issued.
 * On command it answers 429 with `retryDelay`, 503, slowly, `CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE`,
 * row errors for chosen click ids or order ids, or an account's refusal of enhanced conversions
 * for leads.
 */

export interface RecordedUpload {
  version: string;
  customerId: string;
  headers: Record<string, string | undefined>;
  body: unknown;
  status: number;
}

export interface RecordedAdjustment {
  customerId: string;
  body: unknown;
  status: number;
}

export interface AdsApiCommands extends GoogleFaultCommands {
  /** Row errors by click id: `conversionUploadError` code. */
  rowErrors: Map<string, string>;
  /** Google Ads API: the developer token is not allowlisted for click conversion uploads. */
  notAllowlisted: boolean;
  /** Google Ads API adjustments: row errors by order id. */
  adjustmentErrors: Map<string, string>;
}

export interface GoogleAdsApi extends FakeSurface {
  readonly uploads: RecordedUpload[];
  readonly adjustments: RecordedAdjustment[];
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
const MESSAGES: Record<string, string> = {
  UNPARSEABLE_GCLID: 'The click ID could not be decoded.',
  EVENT_NOT_FOUND: 'The click associated with the given identifier or iOS URL parameter was not found.',
  EXPIRED_EVENT:
    'The click that the conversion is being attributed to happened before the click-through window.',
  TOO_RECENT_EVENT: 'The click associated with the given identifier is too recent.',
  CLICK_CONVERSION_ALREADY_EXISTS: 'This conversion has already been uploaded.',
};

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

/** The Google Ads API's answer to a bearer token it does not take. */
const unauthenticated = (version: string) =>
  googleError(
    401,
    'UNAUTHENTICATED',
    'Request had invalid authentication credentials.',
    [{ errorCode: { authenticationError: 'OAUTH_TOKEN_INVALID' }, message: 'Oauth token is invalid.' }],
    version,
  );

/** The rows that failed, as a partial failure's `partialFailureError`; nothing when none did. */
const partialFailure = (version: string, errors: unknown[], message: string, requestId: string) =>
  errors.length
    ? {
        partialFailureError: {
          code: 3,
          message,
          details: [
            {
              '@type': `type.googleapis.com/google.ads.googleads.${version}.errors.GoogleAdsFailure`,
              errors,
              requestId,
            },
          ],
        },
      }
    : {};

/** The GoogleAdsError of a throttled request: the developer token's quota, and when to retry. */
const quotaError = (retryDelay: string) => ({
  errorCode: { quotaError: 'RESOURCE_EXHAUSTED' },
  message: `Too many requests. Retry in ${retryDelay}.`,
  details: {
    quotaErrorDetails: { rateScope: 'DEVELOPER', rateName: 'Number of operations', retryDelay },
  },
});

export function googleAdsApi(commands: AdsApiCommands, scopesOf: BearerScopes): GoogleAdsApi {
  const uploads: RecordedUpload[] = [];
  const adjustments: RecordedAdjustment[] = [];
  /** Conversions retracted, by conversion action and order id. */
  const retracted = new Set<string>();

  async function upload(req: FakeRequest) {
    const [version, customerId] = req.params as [string, string];
    const body = req.jsonOrText();
    const requestId = randomUUID().replace(/-/g, '').slice(0, 22);
    const answer = recordedReply(
      uploads,
      { version, customerId, headers: recordedHeaders(req), body, status: 0 },
      (status, payload) => googleJson(status, payload, requestId),
    );
    if (commands.delayMs > 0) await new Promise((r) => setTimeout(r, commands.delayMs));
    if (!scopesOf(req)) return answer(401, unauthenticated(version));
    const fault = commandedFault(commands, (status, statusName, message, retryDelay) =>
      retryDelay === undefined
        ? googleError(status, statusName, message)
        : googleError(status, statusName, message, [quotaError(retryDelay)], version),
    );
    if (fault) return answer(...fault);
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
      ...partialFailure(
        version,
        errors,
        errors.length === 1
          ? (errors[0] as { message: string }).message
          : 'Multiple errors in ‘details’. First error: ...',
        requestId,
      ),
    });
  }

  async function adjust(req: FakeRequest) {
    const [version, customerId] = req.params as [string, string];
    const body = req.jsonOrText();
    const requestId = randomUUID().replace(/-/g, '').slice(0, 22);
    const answer = recordedReply(adjustments, { customerId, body, status: 0 }, (status, payload) =>
      googleJson(status, payload, requestId),
    );
    if (commands.serverErrors > 0) {
      commands.serverErrors -= 1;
      return answer(503, googleError(503, 'UNAVAILABLE', 'The service is currently unavailable.'));
    }
    const scopes = scopesOf(req);
    if (!scopes?.includes(ADWORDS_SCOPE)) return answer(401, unauthenticated(version));
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
    return answer(200, { results, ...partialFailure(version, errors, 'Adjustment errors', requestId) });
  }

  return {
    routes: [
      route('POST', /\/(v\d+)\/customers\/(\d+):uploadClickConversions/, upload),
      route('POST', /\/(v\d+)\/customers\/(\d+):uploadConversionAdjustments/, adjust),
    ],
    uploads,
    adjustments,
    reset() {
      uploads.length = 0;
      adjustments.length = 0;
    },
  };
}
