import { serveFake } from './fakes/http-fake';
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

export function startFakeMeta(): Promise<FakeMeta> {
  return serveFake(metaConversionsApi(), { notFound: graphNotFound, failed: graphFailure });
}
