import { randomUUID } from 'node:crypto';
import { type FakeReply, type FakeRequest, json } from './http-fake';

/** What the Google Ads API and the Data Manager API share in the local Google fake. */

export const SHA256_HEX = /^[0-9a-f]{64}$/;

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

/** Failures both APIs inject on command, from one shared set of counters. */
export interface GoogleFaultCommands {
  /** The next N uploads answer 429 RESOURCE_EXHAUSTED with this retryDelay (`"1s"`). */
  rateLimit: { times: number; retryDelay: string };
  /** The next N uploads and adjustments answer 503 UNAVAILABLE. */
  serverErrors: number;
  /** Uploads wait this long before answering. */
  delayMs: number;
  /**
   * Enhanced conversions for leads (conversions with user data and no click id) refused for the
   * account's setup, by customer id: Data Manager `ErrorReason` (e.g.
   * `DESTINATION_ACCOUNT_NOT_ENABLED_ENHANCED_CONVERSIONS_FOR_LEADS`); the Google Ads API answers
   * the matching `conversionUploadError` for each such row.
   */
  userDataRefusals: Map<string, EnhancedConversionsRefusal>;
}

/** How each API words the two faults the commands inject: its error body for a status. */
export type GoogleFaultBody = (
  status: 429 | 503,
  statusName: 'RESOURCE_EXHAUSTED' | 'UNAVAILABLE',
  message: string,
  retryDelay?: string,
) => unknown;

/**
 * The throttling and the outage set on command, each served while its count lasts: 429
 * RESOURCE_EXHAUSTED with the retry delay first, then 503 UNAVAILABLE; undefined when neither applies.
 */
export function commandedFault(
  commands: GoogleFaultCommands,
  body: GoogleFaultBody,
): [number, unknown] | undefined {
  if (commands.rateLimit.times > 0) {
    commands.rateLimit.times -= 1;
    const message = 'Resource has been exhausted (e.g. check quota).';
    return [429, body(429, 'RESOURCE_EXHAUSTED', message, commands.rateLimit.retryDelay)];
  }
  if (commands.serverErrors > 0) {
    commands.serverErrors -= 1;
    return [503, body(503, 'UNAVAILABLE', 'The service is currently unavailable.')];
  }
  return undefined;
}

/** The scopes of the request's bearer token, when it is one the fake issued. */
export type BearerScopes = (req: FakeRequest) => string[] | undefined;

/** The headers a recorded Google request is checked on. */
export function recordedHeaders(req: FakeRequest): Record<string, string | undefined> {
  return {
    authorization: req.headers.authorization,
    'developer-token': req.headers['developer-token'] as string | undefined,
    'login-customer-id': req.headers['login-customer-id'] as string | undefined,
    'content-type': req.headers['content-type'],
  };
}

/** A Google answer: JSON, with Google's `request-id` header when there is one. */
export const googleJson = (status: number, body: unknown, requestId?: string): FakeReply =>
  json(status, body, requestId ? { 'request-id': requestId } : {});

/** Google's error body; with `errors`, a GoogleAdsFailure of the given API version in its details. */
export function googleError(
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
