import type { QueuedAdjustment } from './messages';
import type { UploadMetrics } from './metrics';
import type { AdjustDeps } from './ports';
import { adjustmentLedger } from './record';
import type { Results } from './results';
import { screenAdjustments } from './screen';
import { sendQueued } from './send';

/**
 * Sending adjustments (retractions, restatements) of uploaded conversions the way uploads are
 * sent: grouped by tenant and platform, through the same send path (the platform's breaker,
 * backoff, waits while the platform is unwell, parking when an account stopped, the batch's
 * counts). An adjustment waits while its conversion is not uploaded yet; one already applied
 * counts as done. No AWS SDK here.
 */
export function adjustMessages(
  messages: readonly QueuedAdjustment[],
  deps: AdjustDeps,
  metrics: UploadMetrics,
): Promise<Results> {
  return sendQueued(
    messages,
    {
      screen: (tenantId, list, results) => screenAdjustments(tenantId, list, deps, results),
      ledger: (tenantId, provider) => adjustmentLedger(tenantId, provider, deps),
    },
    deps,
    metrics,
  );
}
