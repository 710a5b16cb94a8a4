import { startHttpFake } from './fakes/http-fake';
import {
  type FakeMetaCommands,
  graphFailure,
  graphNotFound,
  metaConversionsApi,
  type ReceivedMetaEvent,
  type RecordedMetaRequest,
} from './fakes/meta';

/**
 * A faithful fake of Meta's Conversions API (`fakes/meta.ts`), for tests and for
 * `META_FAKE=1 npm start`, on 127.0.0.1 and a free port; any other path or method is answered
 * as the Graph API answers it.
 */
export type { FakeMetaCommands, ReceivedMetaEvent, RecordedMetaRequest } from './fakes/meta';

export interface FakeMeta {
  readonly baseUrl: string;
  readonly requests: RecordedMetaRequest[];
  readonly received: ReceivedMetaEvent[];
  readonly commands: FakeMetaCommands;
  reset(): void;
  close(): Promise<void>;
}

export async function startFakeMeta(): Promise<FakeMeta> {
  const commands: FakeMetaCommands = {
    revokedTokens: new Set(),
    throttle: { times: 0, code: 17 },
    serverErrors: 0,
    delayMs: 0,
    rejectEventIds: new Set(),
    deprecatedVersions: new Set(),
  };
  const api = metaConversionsApi(commands);
  const server = await startHttpFake(api.routes, { notFound: graphNotFound, failed: graphFailure });
  return {
    baseUrl: server.baseUrl,
    requests: api.requests,
    received: api.received,
    commands,
    reset() {
      server.log.length = 0;
      api.requests.length = 0;
      api.received.length = 0;
      commands.revokedTokens.clear();
      commands.throttle = { times: 0, code: 17 };
      commands.serverErrors = 0;
      commands.delayMs = 0;
      commands.rejectEventIds.clear();
      commands.deprecatedVersions.clear();
    },
    close: () => server.close(),
  };
}
