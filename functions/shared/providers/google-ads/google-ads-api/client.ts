import { loadSecret } from '../../../platform/config/secrets';
import { readJson } from '../../../platform/http/outbound';
import { type Fetch, GoogleAdsFailure, timeoutMs, transportFailure } from '../tokens';
import type { UploadClickConversionsRequest, UploadConversionAdjustmentsRequest } from './request';
import { accountNotReadyOf, NOT_ALLOWLISTED, requestErrorOf, type UploadResponseBody } from './results';

/**
 * The Google Ads API REST adapter (for developer tokens Google still allowlists for click
 * conversion imports, and for retractions): every call goes through `googleAdsApiCall`, one
 * place for timeouts, headers and the mapping of request-level failures.
 */
export const DEFAULT_API_BASE_URL = 'https://googleads.googleapis.com';
/** The latest Google Ads API version (v19 to v22 are switched off). */
export const DEFAULT_API_VERSION = 'v26';

export const apiBaseUrl = () =>
  (process.env.GOOGLE_ADS_API_BASE_URL || DEFAULT_API_BASE_URL).replace(/\/+$/, '');
export const apiVersion = () => process.env.GOOGLE_ADS_API_VERSION || DEFAULT_API_VERSION;

/** Not allowlisted for this developer token: the platform's configuration, not the tenant's. */
export const PLATFORM_NOT_ALLOWLISTED =
  "Google no longer accepts this platform's developer token for click conversion uploads " +
  '(CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE): set GOOGLE_ADS_UPLOAD_API=data_manager';

const CONFIGURATION_CATEGORIES = new Set([
  'authenticationError',
  'authorizationError',
  'conversionActionError',
]);
const CONFIGURATION_CODES = new Set([
  'INVALID_CONVERSION_ACTION',
  'NO_CONVERSION_ACTION_FOUND',
  'CUSTOMER_NOT_ACCEPTED_CUSTOMER_DATA_TERMS',
  'CUSTOMER_NOT_ENABLED',
  'DEVELOPER_TOKEN_NOT_APPROVED',
  'DEVELOPER_TOKEN_PROHIBITED',
  'USER_PERMISSION_DENIED',
]);

export interface UploadCall<Body = UploadClickConversionsRequest> {
  customerId: string;
  loginCustomerId?: string;
  accessToken: string;
  body: Body;
}

export interface UploadAnswer {
  body: UploadResponseBody;
  /** Google's `request-id` response header, for support cases. */
  requestId?: string;
}

export type GoogleAdsMethod = 'uploadClickConversions' | 'uploadConversionAdjustments';

export function methodUrl(customerId: string, method: GoogleAdsMethod): string {
  return `${apiBaseUrl()}/${apiVersion()}/customers/${customerId}:${method}`;
}

export const uploadUrl = (customerId: string) => methodUrl(customerId, 'uploadClickConversions');

/**
 * The platform's developer token: `GOOGLE_ADS_DEVELOPER_TOKEN` (local runs), else the Secrets
 * Manager secret named by `GOOGLE_ADS_DEVELOPER_TOKEN_ARN` (AWS, cached); none configured: none sent.
 */
export async function developerToken(): Promise<string | undefined> {
  if (process.env.GOOGLE_ADS_DEVELOPER_TOKEN) return process.env.GOOGLE_ADS_DEVELOPER_TOKEN;
  if (!process.env.GOOGLE_ADS_DEVELOPER_TOKEN_ARN) return undefined;
  return loadSecret({ plainEnv: 'GOOGLE_ADS_DEVELOPER_TOKEN', arnEnv: 'GOOGLE_ADS_DEVELOPER_TOKEN_ARN' });
}

export function uploadHeaders(
  call: Pick<UploadCall, 'accessToken' | 'loginCustomerId'>,
  token?: string,
): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    Authorization: `Bearer ${call.accessToken}`,
    ...(call.loginCustomerId ? { 'login-customer-id': call.loginCustomerId } : {}),
    ...(token ? { 'developer-token': token } : {}),
  };
}

/** One Google Ads API call; request-level failures become GoogleAdsFailure. */
export async function googleAdsApiCall(
  method: GoogleAdsMethod,
  call: UploadCall<unknown>,
  fetchImpl: Fetch = fetch,
): Promise<UploadAnswer> {
  let response: Response;
  try {
    response = await fetchImpl(methodUrl(call.customerId, method), {
      method: 'POST',
      headers: uploadHeaders(call, await developerToken()),
      body: JSON.stringify(call.body),
      signal: AbortSignal.timeout(timeoutMs()),
    });
  } catch (error) {
    throw transportFailure(error, 'Google Ads');
  }
  const requestId = response.headers.get('request-id') ?? undefined;
  let body: unknown;
  try {
    body = await readJson(response);
  } catch (error) {
    throw transportFailure(error, 'Google Ads');
  }
  if (response.ok) return { body: (body ?? {}) as UploadResponseBody, ...(requestId ? { requestId } : {}) };
  const detail = requestErrorOf(body);
  const what = `Google Ads answered ${response.status}${detail.codes.length ? ` (${detail.codes.join(', ')})` : ''}`;
  if (detail.codes.includes(NOT_ALLOWLISTED))
    throw new GoogleAdsFailure('platform', PLATFORM_NOT_ALLOWLISTED, undefined, response.status);
  const notReady = accountNotReadyOf(detail.codes);
  if (notReady) throw new GoogleAdsFailure('needs_configuration', notReady, undefined, response.status);
  if (response.status === 429) {
    const header = Number(response.headers.get('retry-after'));
    const retry = detail.retryDelaySeconds ?? (Number.isFinite(header) && header > 0 ? header : undefined);
    throw new GoogleAdsFailure('transient', what, retry, 429);
  }
  if (response.status >= 500 || response.status === 401)
    throw new GoogleAdsFailure('transient', what, undefined, response.status);
  const configuration =
    response.status === 403 ||
    detail.categories.some((c) => CONFIGURATION_CATEGORIES.has(c)) ||
    detail.codes.some((c) => CONFIGURATION_CODES.has(c));
  throw new GoogleAdsFailure(
    configuration ? 'configuration' : 'rejected',
    detail.message ? `${what}: ${detail.message}` : what,
    undefined,
    response.status,
  );
}

/** `customers/{id}:uploadClickConversions`. */
export const uploadClickConversions = (call: UploadCall, fetchImpl: Fetch = fetch) =>
  googleAdsApiCall('uploadClickConversions', call, fetchImpl);

/** `customers/{id}:uploadConversionAdjustments` (retractions and restatements). */
export const uploadConversionAdjustments = (
  call: UploadCall<UploadConversionAdjustmentsRequest>,
  fetchImpl: Fetch = fetch,
) => googleAdsApiCall('uploadConversionAdjustments', call, fetchImpl);
