import type { QueuedMessage } from './messages';
import { emptyMetrics, type UploadMetrics } from './metrics';
import type { UploaderDeps } from './ports';
import { conversionLedger } from './record';
import type { Results } from './results';
import { screenConversions } from './screen';
import { sendQueued } from './send';

/**
 * The upload use case, the same for every ad platform: queued conversion ids in, screened (read
 * once with their leads, consent checked), grouped by tenant and platform, handed to that
 * platform's provider, outcomes written back to the conversion log with a batch record per
 * request. The provider knows its platform; no AWS SDK here, the handler gives the adapters.
 */

/** Uploads the conversions the messages name, by tenant and platform; one result per message id. */
export function uploadMessages(
  messages: readonly QueuedMessage[],
  deps: UploaderDeps,
  metrics: UploadMetrics = emptyMetrics(),
): Promise<Results> {
  return sendQueued(
    messages,
    {
      screen: (tenantId, list, results) => screenConversions(tenantId, list, deps, metrics, results),
      ledger: (tenantId, provider) => conversionLedger(tenantId, provider, deps, metrics),
    },
    deps,
    metrics,
  );
}
