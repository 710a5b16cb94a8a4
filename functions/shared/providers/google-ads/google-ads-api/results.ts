import type { RowOutcome } from '../../../features/conversions/ports-provider';

/**
 * Reading Google Ads answers: per-row outcomes from `partialFailureError` and request-level
 * failures; no I/O here.
 */
export type { RowOutcome };

/** `notAllowlistedError`: the developer token may not import click conversions any more. */
export const NOT_ALLOWLISTED = 'CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE';

interface GoogleAdsError {
  errorCode?: Record<string, unknown>;
  message?: string;
  location?: { fieldPathElements?: Array<{ fieldName?: string; index?: number }> };
  details?: { quotaErrorDetails?: { retryDelay?: string } };
}

interface FailureDetail {
  '@type'?: string;
  errors?: GoogleAdsError[];
  retryDelay?: string;
  requestId?: string;
}

export interface UploadResponseBody {
  results?: Array<Record<string, unknown>>;
  partialFailureError?: { code?: number; message?: string; details?: FailureDetail[] };
}

/**
 * The account refuses conversions matched on user data for its settings (ConversionUploadError):
 * the tenant's Google conversions wait until it is set up and the integration saved again.
 */
export const ACCOUNT_NOT_READY_CODES: Readonly<Record<string, string>> = {
  CUSTOMER_NOT_ENABLED_ENHANCED_CONVERSIONS_FOR_LEADS:
    'The Google Ads account is not enabled for enhanced conversions for leads: turn it on in Google Ads (Goals > Settings), then save the Google Ads integration again',
  CUSTOMER_NOT_ACCEPTED_CUSTOMER_DATA_TERMS:
    'The Google Ads account has not accepted the customer data terms: accept them in Google Ads (Goals > Settings), then save the Google Ads integration again',
  CUSTOMER_DATA_POLICY_PROHIBITS_ENHANCED_CONVERSIONS:
    "Google's customer data policies do not allow enhanced conversions for this Google Ads account: contact Google, or turn enhanced_conversions_for_leads off",
};

/** Google's reason and what to do, when a row or request error is one of those refusals. */
export function accountNotReadyOf(codes: readonly (string | undefined)[]): string | undefined {
  const code = codes.find((c) => c !== undefined && ACCOUNT_NOT_READY_CODES[c] !== undefined);
  return code ? `${ACCOUNT_NOT_READY_CODES[code]} (${code})` : undefined;
}

/** Already delivered or already applied: counts as done. */
const DELIVERED = new Set([
  'CLICK_CONVERSION_ALREADY_EXISTS',
  'ORDER_ID_ALREADY_IN_USE',
  'CONVERSION_ALREADY_RETRACTED',
  'RESTATEMENT_ALREADY_EXISTS',
]);

/** What a user reads in `last_error` for Google's row error codes. */
const FRIENDLY: Record<string, string> = {
  UNPARSEABLE_GCLID: 'Google Ads could not read the click id',
  UNPARSEABLE_GBRAID: 'Google Ads could not read the click id',
  UNPARSEABLE_WBRAID: 'Google Ads could not read the click id',
  INVALID_GCLID: 'Google Ads could not read the click id',
  EXPIRED_EVENT: "The click is older than the conversion action's click-through window",
  EXPIRED_CLICK: "The click is older than the conversion action's click-through window",
  EVENT_NOT_FOUND: 'Google Ads does not know this click in this account',
  CLICK_NOT_FOUND: 'Google Ads does not know this click in this account',
  CONVERSION_PRECEDES_EVENT: 'The conversion happened before the click',
  CONVERSION_PRECEDES_CLICK: 'The conversion happened before the click',
  DUPLICATE_ORDER_ID: 'The same order id was sent twice in one upload',
  INVALID_CONVERSION_ACTION_TYPE: 'The conversion action does not accept click conversions',
  UNAUTHORIZED_CUSTOMER: 'The click belongs to another Google Ads account',
  CONVERSION_NOT_FOUND: 'Google Ads has no conversion with this order id to adjust',
  CONVERSION_EXPIRED: 'The conversion is too old to be adjusted (over 55 days)',
  ADJUSTMENT_PRECEDES_CONVERSION: 'The adjustment is dated before the conversion',
  MORE_RECENT_RESTATEMENT_FOUND: 'A more recent restatement of this conversion exists',
  CANNOT_RESTATE_CONVERSION_ACTION_THAT_ALWAYS_USES_DEFAULT_CONVERSION_VALUE:
    'The conversion action always uses its default value and cannot be restated',
};

/** The first error code of an error, e.g. `CLICK_CONVERSION_ALREADY_EXISTS`. */
export function errorCodeOf(error: GoogleAdsError): string | undefined {
  for (const value of Object.values(error.errorCode ?? {})) if (typeof value === 'string') return value;
  return undefined;
}

export function rowOutcomeOf(error: GoogleAdsError): RowOutcome {
  const code = errorCodeOf(error);
  if (code && DELIVERED.has(code)) return { kind: 'uploaded', alreadyDelivered: true };
  if (code?.startsWith('TOO_RECENT_'))
    return {
      kind: 'rescheduled',
      code,
      reason: 'Google Ads needs a few hours after the click; retrying later',
    };
  const friendly = code ? FRIENDLY[code] : undefined;
  const reason =
    friendly ?? `Google Ads rejected the conversion: ${error.message ?? code ?? 'no reason given'}`;
  return { kind: 'failed', reason, ...(code ? { code } : {}) };
}

/** The row an error is about, when its location names one of the `count` conversions sent. */
const ROW_LISTS = new Set(['conversions', 'conversion_adjustments', 'conversionAdjustments']);

export function rowIndexOf(error: GoogleAdsError, count: number): number | undefined {
  for (const element of error.location?.fieldPathElements ?? []) {
    if (!ROW_LISTS.has(element.fieldName ?? '')) continue;
    const index = element.index ?? 0;
    return Number.isInteger(index) && index >= 0 && index < count ? index : undefined;
  }
  return undefined;
}

/**
 * One outcome per conversion sent. A row with its own error takes that error's outcome; a row
 * with a result is uploaded; a row with neither, when errors could not be placed, fails with
 * their reason.
 */
export function rowOutcomes(body: UploadResponseBody, count: number): RowOutcome[] {
  const located = new Map<number, GoogleAdsError>();
  const unplaced: GoogleAdsError[] = [];
  for (const detail of body.partialFailureError?.details ?? []) {
    for (const error of detail.errors ?? []) {
      const index = rowIndexOf(error, count);
      if (index === undefined) unplaced.push(error);
      else if (!located.has(index)) located.set(index, error);
    }
  }
  const results = body.results ?? [];
  const outcomes: RowOutcome[] = [];
  for (let i = 0; i < count; i++) {
    const error = located.get(i);
    if (error) {
      outcomes.push(rowOutcomeOf(error));
      continue;
    }
    const result = results[i];
    const hasResult = !!result && Object.keys(result).length > 0;
    if (hasResult || !body.partialFailureError) outcomes.push({ kind: 'uploaded' });
    else if (unplaced[0]) outcomes.push(rowOutcomeOf(unplaced[0]));
    else
      outcomes.push({
        kind: 'failed',
        reason: `Google Ads rejected the conversion: ${body.partialFailureError.message ?? 'no reason given'}`,
      });
  }
  return outcomes;
}

/** Seconds from a protobuf Duration string such as `30s` or `1.5s`. */
export function durationSeconds(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^(\d+(?:\.\d+)?)s$/.exec(value.trim());
  return match ? Math.ceil(Number(match[1])) : undefined;
}

interface ErrorBody {
  error?: { code?: number; message?: string; status?: string; details?: FailureDetail[] };
}

/** Error codes and retry delay of a request-level error answer. */
export function requestErrorOf(body: unknown): {
  codes: string[];
  /** The error families, e.g. `authorizationError`. */
  categories: string[];
  message?: string;
  retryDelaySeconds?: number;
} {
  const error = (body as ErrorBody | undefined)?.error;
  const codes: string[] = [];
  const categories: string[] = [];
  let retryDelaySeconds: number | undefined;
  for (const detail of error?.details ?? []) {
    retryDelaySeconds ??= durationSeconds(detail.retryDelay);
    for (const e of detail.errors ?? []) {
      const code = errorCodeOf(e);
      if (code) codes.push(code);
      categories.push(...Object.keys(e.errorCode ?? {}));
      retryDelaySeconds ??= durationSeconds(e.details?.quotaErrorDetails?.retryDelay);
    }
  }
  return {
    codes,
    categories,
    ...(error?.message ? { message: error.message } : {}),
    ...(retryDelaySeconds !== undefined ? { retryDelaySeconds } : {}),
  };
}
