import {
  type AdsApiCommands,
  googleAdsApi,
  type RecordedAdjustment,
  type RecordedUpload,
} from './fakes/google-ads-api';
import { googleError, googleJson } from './fakes/google-common';
import {
  type DataManagerCommands,
  googleDataManager,
  type RecordedIngest,
  type RecordedStatusRead,
} from './fakes/google-data-manager';
import { googleOAuth, type OAuthCommands, type RecordedTokenRequest } from './fakes/google-oauth';
import { serveFake } from './fakes/http-fake';

/**
 * A faithful fake of Google for tests and for `GOOGLE_ADS_FAKE=1 npm start`: one server on
 * 127.0.0.1 and a free port serving Google's OAuth endpoints (`fakes/google-oauth.ts`), the
 * Google Ads REST API (`fakes/google-ads-api.ts`) and the Data Manager API
 * (`fakes/google-data-manager.ts`). The APIs take the access tokens the OAuth endpoints issued,
 * and share one set of commands, so a throttle or an outage set once applies to whichever API is
 * called next. Every request is recorded.
 */
export type { RecordedAdjustment, RecordedUpload } from './fakes/google-ads-api';
export {
  ENHANCED_CONVERSIONS_REFUSALS,
  type EnhancedConversionsRefusal,
} from './fakes/google-common';
export type { RecordedIngest, RecordedStatusRead } from './fakes/google-data-manager';
export { ADWORDS_SCOPE, DATA_MANAGER_SCOPE, type RecordedTokenRequest } from './fakes/google-oauth';

/** What the fake does on command, across the three surfaces. */
export interface FakeCommands extends OAuthCommands, AdsApiCommands, DataManagerCommands {}

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

export async function startFakeGoogleAds(): Promise<FakeGoogleAds> {
  const commands = fresh();
  const oauth = googleOAuth(commands);
  const adsApi = googleAdsApi(commands, oauth.scopesOf);
  const dataManager = googleDataManager(commands, oauth.scopesOf);
  const surfaces = [oauth, adsApi, dataManager];
  const fake = await serveFake(
    {
      routes: surfaces.flatMap((surface) => surface.routes),
      uploads: adsApi.uploads,
      ingests: dataManager.ingests,
      statusReads: dataManager.statusReads,
      adjustments: adsApi.adjustments,
      tokenRequests: oauth.tokenRequests,
      commands,
      reset() {
        for (const surface of surfaces) surface.reset();
        Object.assign(commands, fresh());
      },
    },
    {
      notFound: (req) => googleJson(404, googleError(404, 'NOT_FOUND', `No route ${req.method} ${req.path}`)),
      failed: () => googleJson(500, googleError(500, 'INTERNAL', 'fake failed')),
    },
  );
  return { ...fake, tokenUrl: `${fake.baseUrl}/token` };
}
