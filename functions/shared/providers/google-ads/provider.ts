import type { Adjustment, Conversion } from '../../features/conversions/model';
import type {
  AdjustmentRow,
  Connection,
  ConversionProvider,
  ProcessingStatus,
  ProviderFailure,
  RowOutcome,
  SendResult,
  UploadRow,
} from '../../features/conversions/ports-provider';
import type { IngestAnswer } from './data-manager/client';
import type { QuotaPacer } from './data-manager/pacer';
import {
  type DataManagerTarget,
  type IngestEventsRequest,
  ingestEvent,
  ingestRequest,
  MAX_EVENTS_PER_REQUEST,
  restatementEvent,
  transactionIdOf,
} from './data-manager/request';
import { processingStatusOf } from './data-manager/results';
import { type Ingest, sendEvents } from './data-manager/send';
import { PLATFORM_NOT_ALLOWLISTED, type UploadAnswer, type UploadCall } from './google-ads-api/client';
import {
  clickConversion,
  conversionAdjustment,
  MAX_CONVERSIONS_PER_REQUEST,
  type UploadConversionAdjustmentsRequest,
  type UploadTarget,
  uploadRequest,
} from './google-ads-api/request';
import { accountNotReadyOf, NOT_ALLOWLISTED, rowOutcomes } from './google-ads-api/results';
import { hashedIdentifiers } from './identifiers';
import type { IntegrationStatus, StoredGoogleAdsIntegration } from './integration';
import { DATA_MANAGER_SCOPE, GOOGLE_ADS_SCOPE } from './oauth';
import { rejectionReason } from './rules';
import { GoogleAdsFailure, type OAuthCredential } from './tokens';

/**
 * Google Ads as a conversion provider: the tenant's connection and credential, Google's rules,
 * and one upload transport per Google API behind one interface, chosen by `GOOGLE_ADS_UPLOAD_API`:
 * `data_manager` (default; `events:ingest`, no developer token) or `google_ads_api`
 * (`uploadClickConversions`, for developer tokens Google still allowlists).
 */
export const UPLOAD_APIS = ['data_manager', 'google_ads_api'] as const;
export type GoogleUploadApi = (typeof UPLOAD_APIS)[number];

export const NOT_CONNECTED = 'Google Ads is not connected';
export const DISCONNECTED = 'Google Ads is disconnected: reconnect the account';
export const NEEDS_CONFIGURATION =
  'Google Ads refused conversions matched on user data for the account settings: fix them in Google Ads, then save the Google Ads integration again';

/** The transport named by `GOOGLE_ADS_UPLOAD_API`; an unknown name is a configuration error. */
export function uploadApi(env: NodeJS.ProcessEnv = process.env): GoogleUploadApi {
  const value = env.GOOGLE_ADS_UPLOAD_API?.trim() || 'data_manager';
  if (!(UPLOAD_APIS as readonly string[]).includes(value))
    throw new Error(`GOOGLE_ADS_UPLOAD_API must be one of ${UPLOAD_APIS.join(', ')} (got "${value}")`);
  return value as GoogleUploadApi;
}

export interface GoogleSession {
  tenantId: string;
  integration: StoredGoogleAdsIntegration;
  credential?: OAuthCredential;
  /** An access token carrying the transport's scope, or the scope named. */
  accessToken(scope?: string): Promise<string>;
}

export interface GoogleTransport {
  readonly name: GoogleUploadApi;
  readonly maxPerRequest: number;
  readonly requiredScope: string;
  send(session: GoogleSession, rows: UploadRow[], now: Date): Promise<SendResult>;
  requestStatus?(session: GoogleSession, requestId: string): Promise<ProcessingStatus>;
  /** Restatements through this transport (Data Manager: a matching transactionId). */
  restate?(session: GoogleSession, rows: AdjustmentRow[], now: Date): Promise<SendResult>;
}

/** `uploadConversionAdjustments` of the Google Ads API: retractions, and restatements without Data Manager. */
export type AdjustmentsApi = (call: UploadCall<UploadConversionAdjustmentsRequest>) => Promise<UploadAnswer>;

export interface GoogleConnectionDeps {
  integrations: {
    get(tenantId: string): Promise<StoredGoogleAdsIntegration | undefined>;
    disconnect(
      tenantId: string,
      reason: string,
      status?: Exclude<IntegrationStatus, 'connected'>,
    ): Promise<void>;
  };
  /** The tenant's OAuth credential, opened from its sealed secrets. */
  credential(tenantId: string, integration: StoredGoogleAdsIntegration): Promise<OAuthCredential>;
  accessToken(credential: OAuthCredential, requiredScope?: string): Promise<string>;
  forgetToken(credential: OAuthCredential): void;
}

export const dataManagerTarget = (integration: StoredGoogleAdsIntegration): DataManagerTarget => ({
  customerId: integration.customer_id,
  conversionActionId: integration.conversion_action_id,
  ...(integration.login_customer_id ? { loginCustomerId: integration.login_customer_id } : {}),
  ...(integration.currency ? { currency: integration.currency } : {}),
});

export const googleAdsApiTarget = (integration: StoredGoogleAdsIntegration): UploadTarget => ({
  customerId: integration.customer_id,
  conversionActionId: integration.conversion_action_id,
  timeZone: integration.time_zone,
  ...(integration.currency ? { currency: integration.currency } : {}),
});

/** Opens the tenant's session: credential and access token on first use, one per session. */
export function openSession(
  deps: GoogleConnectionDeps,
  tenantId: string,
  integration: StoredGoogleAdsIntegration,
  scope: string,
): GoogleSession {
  const session: GoogleSession = {
    tenantId,
    integration,
    async accessToken(required = scope) {
      session.credential ??= await deps.credential(tenantId, integration);
      return deps.accessToken(session.credential, required);
    },
  };
  return session;
}

export function googleProvider(
  deps: GoogleConnectionDeps,
  transport: GoogleTransport,
  adjustmentsApi?: AdjustmentsApi,
): ConversionProvider<GoogleSession> {
  const provider: ConversionProvider<GoogleSession> = {
    platform: 'google_ads',
    transport: transport.name,
    maxPerRequest: transport.maxPerRequest,
    async connect(tenantId): Promise<Connection<GoogleSession>> {
      const integration = await deps.integrations.get(tenantId);
      if (!integration) return { kind: 'missing', reason: NOT_CONNECTED };
      if (integration.status === 'disconnected') return { kind: 'parked', reason: DISCONNECTED };
      if (integration.status === 'needs_reconnect')
        return { kind: 'parked', reason: integration.status_reason ?? DISCONNECTED };
      // Waiting for the account's setup (enhanced conversions for leads): in the log, not the DLQ.
      if (integration.status === 'needs_configuration')
        return { kind: 'parked', reason: integration.status_reason ?? NEEDS_CONFIGURATION, waits: true };
      return {
        kind: 'ready',
        account: integration.customer_id,
        session: openSession(deps, tenantId, integration, transport.requiredScope),
      };
    },
    rejectionReason: (row, now) =>
      rejectionReason(row.conversion, now, row.lead?.click_time) ??
      (row.conversion.match === 'user_data' &&
      row.lead &&
      Object.keys(hashedIdentifiers(row.lead)).length === 0
        ? 'No click id, and no e-mail or phone to match on'
        : undefined),
    send: (session, rows, now) => transport.send(session, rows, now),
    async onFailure(tenantId, session, failure: ProviderFailure) {
      if (failure.status === 401 && session?.credential) deps.forgetToken(session.credential);
      if (failure.kind === 'disconnected') await deps.integrations.disconnect(tenantId, failure.message);
      if (failure.kind === 'needs_reconnect')
        await deps.integrations.disconnect(tenantId, failure.message, 'needs_reconnect');
      if (failure.kind === 'needs_configuration')
        await deps.integrations.disconnect(tenantId, failure.message, 'needs_configuration');
    },
  };
  if (transport.requestStatus) {
    const read = transport.requestStatus.bind(transport);
    provider.requestStatus = (session, requestId) => read(session, requestId);
  }
  if (adjustmentsApi)
    provider.adjust = (session, rows, now) =>
      adjustConversions(session, rows, now, transport, adjustmentsApi);
  return provider;
}

/** A call of the Google Ads API for the integration's account, through its manager account if it has one. */
const adsApiCall = <Body>(
  integration: StoredGoogleAdsIntegration,
  target: UploadTarget,
  accessToken: string,
  body: Body,
): UploadCall<Body> => ({
  customerId: target.customerId,
  ...(integration.login_customer_id ? { loginCustomerId: integration.login_customer_id } : {}),
  accessToken,
  body,
});

/** The result of one request that carried every row, in order. */
const oneRequest = (outcomes: RowOutcome[], requestId: string | undefined, started: number): SendResult => ({
  outcomes,
  requestIds: outcomes.map(() => requestId),
  requests: [
    {
      ...(requestId ? { requestId } : {}),
      rows: outcomes.map((_o, i) => i),
      durationMs: Date.now() - started,
    },
  ],
});

/**
 * Restatements through the transport when it has them (Data Manager: the same transactionId
 * with the value that counts now); retractions, which the Data Manager API does not offer, and
 * restatements on the Google Ads API transport through `uploadConversionAdjustments`.
 */
async function adjustConversions(
  session: GoogleSession,
  rows: AdjustmentRow[],
  now: Date,
  transport: GoogleTransport,
  adjustmentsApi: AdjustmentsApi,
): Promise<SendResult> {
  const result: SendResult = {
    outcomes: new Array(rows.length),
    requestIds: new Array(rows.length).fill(undefined),
    requests: [],
  };
  const merge = (indexes: number[], part: SendResult) => {
    for (const [k, i] of indexes.entries()) {
      result.outcomes[i] = part.outcomes[k] as RowOutcome;
      result.requestIds[i] = part.requestIds[k];
    }
    for (const request of part.requests)
      result.requests.push({ ...request, rows: request.rows.map((k) => indexes[k] as number) });
  };
  const restate = transport.restate?.bind(transport);
  const viaTransport = rows.flatMap((row, i) =>
    restate && row.adjustment.type === 'restatement' ? [i] : [],
  );
  const viaAdsApi = rows.flatMap((_row, i) => (viaTransport.includes(i) ? [] : [i]));
  if (restate && viaTransport.length)
    merge(
      viaTransport,
      await restate(
        session,
        viaTransport.map((i) => rows[i] as AdjustmentRow),
        now,
      ),
    );
  if (viaAdsApi.length) {
    const target = googleAdsApiTarget(session.integration);
    const started = Date.now();
    const accessToken = await session.accessToken(GOOGLE_ADS_SCOPE);
    const answer = await adjustmentsApi(
      adsApiCall(session.integration, target, accessToken, {
        conversionAdjustments: viaAdsApi.map((i) => {
          const { adjustment, conversion } = rows[i] as AdjustmentRow;
          return conversionAdjustment(
            {
              type: adjustment.type === 'retraction' ? 'RETRACTION' : 'RESTATEMENT',
              orderId: transactionIdOf(conversion),
              at: adjustmentTime(adjustment, conversion, now),
              ...(adjustment.value !== undefined ? { value: adjustment.value } : {}),
              ...(adjustment.currency ? { currency: adjustment.currency } : {}),
            },
            target,
          );
        }),
        partialFailure: true,
      }),
    );
    merge(viaAdsApi, oneRequest(rowOutcomes(answer.body, viaAdsApi.length), answer.requestId, started));
  }
  return result;
}

/** Google wants the adjustment after the conversion: never before it, never in the future. */
function adjustmentTime(adjustment: Adjustment, conversion: Conversion, now: Date): Date {
  const at = Math.min(now.getTime(), Date.parse(adjustment.adjustment_time) || now.getTime());
  return new Date(Math.max(at, Date.parse(conversion.conversion_time) + 1000));
}

export interface DataManagerApi {
  ingest(accessToken: string, body: IngestEventsRequest): Promise<IngestAnswer>;
  retrieve(accessToken: string, requestId: string): Promise<unknown>;
}

/** The Data Manager transport: `events:ingest`, paced to the project's quota, split on rejection. */
export function dataManagerTransport(api: DataManagerApi, pacer?: QuotaPacer): GoogleTransport {
  /** Events of the session's destination, sent paced (split on rejection by `sendEvents`). */
  const ingestTo =
    (session: GoogleSession, target: DataManagerTarget): Ingest =>
    async (batch) => {
      const accessToken = await session.accessToken();
      await pacer?.take();
      return api.ingest(accessToken, ingestRequest(batch, target));
    };
  return {
    name: 'data_manager',
    maxPerRequest: MAX_EVENTS_PER_REQUEST,
    requiredScope: DATA_MANAGER_SCOPE,
    async send(session, rows) {
      const target = dataManagerTarget(session.integration);
      return sendEvents(
        rows.map((row) => ingestEvent(row.conversion, row.lead, target)),
        ingestTo(session, target),
      );
    },
    async restate(session, rows, now) {
      const target = dataManagerTarget(session.integration);
      const events = rows.map((row) =>
        restatementEvent(
          row.conversion,
          row.lead,
          target,
          row.adjustment.value ?? 0,
          row.adjustment.currency,
          adjustmentTime(row.adjustment, row.conversion, now),
        ),
      );
      return sendEvents(events, ingestTo(session, target));
    },
    async requestStatus(session, requestId) {
      const accessToken = await session.accessToken();
      await pacer?.take();
      return processingStatusOf(await api.retrieve(accessToken, requestId));
    },
  };
}

/** The Google Ads API transport: `uploadClickConversions` with partial failure. */
export function googleAdsApiTransport(upload: (call: UploadCall) => Promise<UploadAnswer>): GoogleTransport {
  return {
    name: 'google_ads_api',
    maxPerRequest: MAX_CONVERSIONS_PER_REQUEST,
    requiredScope: GOOGLE_ADS_SCOPE,
    async send(session, rows) {
      const target = googleAdsApiTarget(session.integration);
      const started = Date.now();
      const accessToken = await session.accessToken();
      const answer = await upload(
        adsApiCall(
          session.integration,
          target,
          accessToken,
          uploadRequest(rows.map((row) => clickConversion(row.conversion, row.lead, target))),
        ),
      );
      const outcomes = rowOutcomes(answer.body, rows.length);
      if (outcomes.some((o) => o.kind === 'failed' && o.code === NOT_ALLOWLISTED))
        throw new GoogleAdsFailure('platform', PLATFORM_NOT_ALLOWLISTED);
      // The account is not set up for enhanced conversions for leads: the group waits for it
      // (Google deduplicates what it took by order id when it is sent again).
      const notReady = accountNotReadyOf(outcomes.map((o) => (o.kind === 'failed' ? o.code : undefined)));
      if (notReady) throw new GoogleAdsFailure('needs_configuration', notReady);
      return oneRequest(outcomes, answer.requestId, started);
    },
  };
}
