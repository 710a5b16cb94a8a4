import type {
  Connection,
  ConversionProvider,
  ProcessingStatus,
  ProviderFailure,
  SendResult,
  UploadRow,
} from '../conversions/provider';
import type { QuotaPacer } from './data-manager/pacer';
import type { IngestEventsRequest } from './data-manager/request';
import {
  type DataManagerTarget,
  ingestEvent,
  ingestRequest,
  MAX_EVENTS_PER_REQUEST,
} from './data-manager/request';
import { processingStatusOf } from './data-manager/results';
import { type Ingest, sendEvents } from './data-manager/send';
import { PLATFORM_NOT_ALLOWLISTED, type UploadAnswer, type UploadCall } from './google-ads-api/client';
import {
  clickConversion,
  MAX_CONVERSIONS_PER_REQUEST,
  type UploadTarget,
  uploadRequest,
} from './google-ads-api/request';
import { NOT_ALLOWLISTED, rowOutcomes } from './google-ads-api/results';
import { DATA_MANAGER_SCOPE, GOOGLE_ADS_SCOPE } from './oauth';
import { rejectionReason } from './rules';
import type { IntegrationStatus, StoredGoogleAdsIntegration } from './settings';
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
  /** An access token carrying the transport's scope. */
  accessToken(): Promise<string>;
}

export interface GoogleTransport {
  readonly name: GoogleUploadApi;
  readonly maxPerRequest: number;
  readonly requiredScope: string;
  send(session: GoogleSession, rows: UploadRow[], now: Date): Promise<SendResult>;
  requestStatus?(session: GoogleSession, requestId: string): Promise<ProcessingStatus>;
}

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
    async accessToken() {
      session.credential ??= await deps.credential(tenantId, integration);
      return deps.accessToken(session.credential, scope);
    },
  };
  return session;
}

export function googleProvider(
  deps: GoogleConnectionDeps,
  transport: GoogleTransport,
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
      return {
        kind: 'ready',
        account: integration.customer_id,
        session: openSession(deps, tenantId, integration, transport.requiredScope),
      };
    },
    rejectionReason: (row, now) => rejectionReason(row.conversion, now, row.lead?.click_time),
    send: (session, rows, now) => transport.send(session, rows, now),
    async onFailure(tenantId, session, failure: ProviderFailure) {
      if (failure.status === 401 && session?.credential) deps.forgetToken(session.credential);
      if (failure.kind === 'disconnected') await deps.integrations.disconnect(tenantId, failure.message);
      if (failure.kind === 'needs_reconnect')
        await deps.integrations.disconnect(tenantId, failure.message, 'needs_reconnect');
    },
  };
  if (transport.requestStatus) {
    const read = transport.requestStatus.bind(transport);
    provider.requestStatus = (session, requestId) => read(session, requestId);
  }
  return provider;
}

export interface DataManagerApi {
  ingest(accessToken: string, body: IngestEventsRequest): Promise<{ requestId?: string }>;
  retrieve(accessToken: string, requestId: string): Promise<unknown>;
}

/** The Data Manager transport: `events:ingest`, paced to the project's quota, split on rejection. */
export function dataManagerTransport(api: DataManagerApi, pacer?: QuotaPacer): GoogleTransport {
  return {
    name: 'data_manager',
    maxPerRequest: MAX_EVENTS_PER_REQUEST,
    requiredScope: DATA_MANAGER_SCOPE,
    async send(session, rows) {
      const target = dataManagerTarget(session.integration);
      const events = rows.map((row) => ingestEvent(row.conversion, row.lead, target));
      const ingest: Ingest = async (batch) => {
        const accessToken = await session.accessToken();
        await pacer?.take();
        return api.ingest(accessToken, ingestRequest(batch, target));
      };
      return sendEvents(events, ingest);
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
      const answer = await upload({
        customerId: target.customerId,
        ...(session.integration.login_customer_id
          ? { loginCustomerId: session.integration.login_customer_id }
          : {}),
        accessToken,
        body: uploadRequest(rows.map((row) => clickConversion(row.conversion, row.lead, target))),
      });
      const outcomes = rowOutcomes(answer.body, rows.length);
      if (outcomes.some((o) => o.kind === 'failed' && o.code === NOT_ALLOWLISTED))
        throw new GoogleAdsFailure('platform', PLATFORM_NOT_ALLOWLISTED);
      return {
        outcomes,
        requestIds: rows.map(() => answer.requestId),
        requests: [
          {
            ...(answer.requestId ? { requestId: answer.requestId } : {}),
            rows: rows.map((_r, i) => i),
            durationMs: Date.now() - started,
          },
        ],
      };
    },
  };
}
