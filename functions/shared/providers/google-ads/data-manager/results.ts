import type { WARNING_REASON_GROUPS } from '../../../../../contract/metrics';
import type { ProcessingStatus } from '../../../features/conversions/ports-provider';

/**
 * Reading Data Manager API answers (the Google API error model: `error.status`, `error.details`
 * with `ErrorInfo`, `BadRequest.fieldViolations`, `RetryInfo`) and request statuses; no I/O.
 */
interface ErrorDetail {
  '@type'?: string;
  reason?: string;
  retryDelay?: string;
  fieldViolations?: Array<{ field?: string; description?: string; reason?: string }>;
}

export interface DataManagerErrorBody {
  error?: { code?: number; message?: string; status?: string; details?: ErrorDetail[] };
}

export interface Violation {
  /** The index of the event in the request's `events`, when the field path names one. */
  eventIndex?: number;
  reason?: string;
  description?: string;
}

export interface ErrorSummary {
  status?: string;
  message?: string;
  /** `ErrorInfo.reason` values. */
  reasons: string[];
  violations: Violation[];
  retryDelaySeconds?: number;
}

/** `events.events[3].user_data.user_identifiers[0]` → 3 (also `events[3]...`). */
export function eventIndexOf(field: string | undefined): number | undefined {
  const match = /(?:^|\.)events\[(\d+)\]/.exec(field ?? '');
  return match ? Number(match[1]) : undefined;
}

function seconds(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^(\d+(?:\.\d+)?)s$/.exec(value.trim());
  return match ? Math.ceil(Number(match[1])) : undefined;
}

export function errorSummary(body: unknown): ErrorSummary {
  const error = (body as DataManagerErrorBody | undefined)?.error;
  const reasons: string[] = [];
  const violations: Violation[] = [];
  let retryDelaySeconds: number | undefined;
  for (const detail of error?.details ?? []) {
    if (detail.reason) reasons.push(detail.reason);
    retryDelaySeconds ??= seconds(detail.retryDelay);
    for (const violation of detail.fieldViolations ?? []) {
      const eventIndex = eventIndexOf(violation.field);
      violations.push({
        ...(eventIndex !== undefined ? { eventIndex } : {}),
        ...(violation.reason ? { reason: violation.reason } : {}),
        ...(violation.description ? { description: violation.description } : {}),
      });
    }
  }
  return {
    ...(error?.status ? { status: error.status } : {}),
    ...(error?.message ? { message: error.message } : {}),
    reasons,
    violations,
    ...(retryDelaySeconds !== undefined ? { retryDelaySeconds } : {}),
  };
}

/**
 * Google's refusals of enhanced conversions for leads for the destination account's settings
 * (Data Manager API release notes v1.2, `ErrorReason`): nothing is wrong with the events, the
 * account has to be set up, so the tenant's Google conversions wait for it.
 */
export const ACCOUNT_NOT_READY_FOR_USER_DATA: Readonly<Record<string, string>> = {
  DESTINATION_ACCOUNT_NOT_ENABLED_ENHANCED_CONVERSIONS_FOR_LEADS:
    'The Google Ads account is not enabled for enhanced conversions for leads: turn it on in Google Ads (Goals > Settings), then save the Google Ads integration again',
  DESTINATION_ACCOUNT_ENHANCED_CONVERSIONS_TERMS_NOT_SIGNED:
    'The Google Ads account has not accepted the customer data terms for enhanced conversions: accept them in Google Ads (Goals > Settings), then save the Google Ads integration again',
  DESTINATION_ACCOUNT_DATA_POLICY_PROHIBITS_ENHANCED_CONVERSIONS:
    "Google's customer data policies do not allow enhanced conversions for this Google Ads account: contact Google, or turn enhanced_conversions_for_leads off",
};

/** Google's reason and what to do, when the answer is one of those refusals. */
export function accountNotReadyReason(summary: ErrorSummary): string | undefined {
  const codes = [...summary.reasons, ...summary.violations.map((v) => v.reason ?? '')];
  const code = codes.find((c) => ACCOUNT_NOT_READY_FOR_USER_DATA[c] !== undefined);
  return code ? `${ACCOUNT_NOT_READY_FOR_USER_DATA[code]} (${code})` : undefined;
}

/** What a user reads in `last_error` for Google's reasons. */
const FRIENDLY: Record<string, string> = {
  INVALID_FORMAT: 'Google could not read a field of the conversion',
  REQUIRED_FIELD_MISSING: 'A field Google requires is missing',
  INVALID_HEX_ENCODING: 'A hashed identifier is not valid hex',
  INVALID_SHA256_FORMAT: 'A hashed identifier is not a SHA-256 hash',
  INVALID_CURRENCY_CODE: 'The currency is not an ISO 4217 code',
  INVALID_EVENT: 'Google refused the conversion event',
  DUPLICATE_TRANSACTION_ID: 'The same order id was sent twice in one request',
};

/** A readable reason for one refused event. */
export function violationReason(violation: Violation | undefined, fallback?: string): string {
  const friendly = violation?.reason ? FRIENDLY[violation.reason] : undefined;
  const said = violation?.description ?? fallback ?? 'no reason given';
  const code = violation?.reason ? ` (${violation.reason})` : '';
  return `Google rejected the conversion: ${friendly ?? said}${code}`;
}

interface StatusBody {
  requestStatusPerDestination?: Array<{
    requestStatus?: string;
    errorInfo?: { errorCounts?: Array<{ recordCount?: string | number; reason?: string }> };
    warningInfo?: { warningCounts?: Array<{ recordCount?: string | number; reason?: string }> };
    eventsIngestionStatus?: { recordCount?: string | number };
  }>;
}

const STATES: Record<string, ProcessingStatus['state']> = {
  PROCESSING: 'processing',
  SUCCESS: 'succeeded',
  PARTIAL_SUCCESS: 'partially_succeeded',
  FAILED: 'failed',
};

function counts(list: Array<{ recordCount?: string | number; reason?: string }> | undefined) {
  const out: Record<string, number> = {};
  for (const entry of list ?? []) {
    const reason = entry.reason ?? 'UNSPECIFIED';
    out[reason] = (out[reason] ?? 0) + (Number(entry.recordCount) || 0);
  }
  return out;
}

/** The processing status of a request sent to one destination (ours always have one). */
export function processingStatusOf(body: unknown): ProcessingStatus {
  const entry = (body as StatusBody | undefined)?.requestStatusPerDestination?.[0];
  const records = Number(entry?.eventsIngestionStatus?.recordCount);
  return {
    state: STATES[entry?.requestStatus ?? ''] ?? 'unknown',
    errors: counts(entry?.errorInfo?.errorCounts),
    warnings: counts(entry?.warningInfo?.warningCounts),
    ...(Number.isFinite(records) ? { records } : {}),
  };
}

/**
 * `WarningReason`, Google's reasons for `fieldWarnings` (v1.8): an optional field of an accepted
 * request that Google could not use; the request and the rest of the event were still ingested.
 * https://developers.google.com/data-manager/api/reference/rest/v1/FieldWarning
 * Each reason with its group, the metric dimension (a small closed set, WARNING_REASON_GROUPS of
 * the metric catalogue; the exact reason is in the log and on the conversion). Google may add
 * reasons: one not listed here is in group `other`.
 */
export type WarningReasonGroup = (typeof WARNING_REASON_GROUPS)[number];

export const DATA_MANAGER_WARNING_REASONS: Readonly<Record<string, WarningReasonGroup>> = {
  WARNING_REASON_UNSPECIFIED: 'unspecified',
  WARNING_REASON_CUSTOM_VARIABLE_NOT_ENABLED: 'custom_variable',
  WARNING_REASON_CUSTOM_VARIABLE_NOT_PREDEFINED: 'custom_variable',
  WARNING_REASON_CART_DATA_NOT_SUPPORTED_WITH_GBRAID_OR_WBRAID: 'cart_data',
  WARNING_REASON_CART_DATA_ITEM_MERCHANT_PRODUCT_ID_MISSING: 'cart_data',
  WARNING_REASON_CART_DATA_ITEM_UNIT_PRICE_MISSING: 'cart_data',
  WARNING_REASON_GENERIC: 'generic',
  WARNING_REASON_INVALID_CLIENT_ID: 'client_id',
  WARNING_REASON_INVALID_SUBDIVISION_CODE: 'location',
  WARNING_REASON_INVALID_REGION_CODE: 'location',
  WARNING_REASON_INVALID_SUBCONTINENT_CODE: 'location',
  WARNING_REASON_INVALID_CONTINENT_CODE: 'location',
  WARNING_REASON_INVALID_DEVICE_CATEGORY: 'device',
  WARNING_REASON_INVALID_DEVICE_SCREEN_RESOLUTION: 'device',
  WARNING_REASON_INVALID_MERCHANT_ID: 'merchant_id',
};

/** The metric group of a warning reason; `other` for one Google added after this list. */
export function warningReasonGroup(reason: string): WarningReasonGroup {
  return Object.hasOwn(DATA_MANAGER_WARNING_REASONS, reason)
    ? (DATA_MANAGER_WARNING_REASONS[reason] as WarningReasonGroup)
    : 'other';
}

/**
 * One field warning as the product keeps it: Google's reason, the field's path inside the event
 * (`conversion_value`, not `events[3].conversion_value`) and the event's index in the request.
 * Google's `description` is left out: it may quote the value, which may be personal data.
 */
export interface FieldWarning {
  reason: string;
  field?: string;
  eventIndex?: number;
}

const REASON = /^[A-Z][A-Z0-9_]{0,99}$/;
const FIELD_PATH = /^[A-Za-z0-9_.[\]]{1,200}$/;

/** `events.events[3].cart_data.items[0]` → `cart_data.items[0]`; `events[3]` alone → undefined. */
function fieldInEvent(field: string): string | undefined {
  const rest = field.replace(/^(?:events\.)?events\[\d+\]\.?/, '');
  return rest && FIELD_PATH.test(rest) ? rest : undefined;
}

/** The `fieldWarnings` of an `events:ingest` answer (none when absent or malformed). */
export function fieldWarningsOf(body: unknown): FieldWarning[] {
  const list = (body as { fieldWarnings?: unknown } | undefined)?.fieldWarnings;
  if (!Array.isArray(list)) return [];
  return list.flatMap((entry): FieldWarning[] => {
    if (typeof entry !== 'object' || entry === null) return [];
    const { reason, field } = entry as { reason?: unknown; field?: unknown };
    const path = typeof field === 'string' ? field : undefined;
    const eventIndex = eventIndexOf(path);
    const inEvent = path === undefined ? undefined : fieldInEvent(path);
    return [
      {
        reason: typeof reason === 'string' && REASON.test(reason) ? reason : 'WARNING_REASON_UNSPECIFIED',
        ...(inEvent !== undefined ? { field: inEvent } : {}),
        ...(eventIndex !== undefined ? { eventIndex } : {}),
      },
    ];
  });
}
