import type { RecordedProcessing, UploadBatchRecord } from '../shared/features/conversions/dynamo-log';
import type { RequestStatusMessage } from '../shared/features/conversions/model';
import { ProviderFailure, type ProviderRegistry } from '../shared/features/conversions/ports-provider';
import { logger } from '../shared/platform/observability';
import { backoffSeconds } from '../shared/platform/queues/backoff';

/**
 * Reading later what a platform made of an accepted request (the Data Manager API processes
 * `events:ingest` asynchronously): the uploader schedules a status message per request; each
 * read records the outcome (error and warning counts by reason) on the batch and its
 * conversions, or, while Google is still processing, schedules the next read with backoff.
 */
export const MAX_STATUS_CHECKS = 12;
export interface StatusDeps {
  batch(tenantId: string, id: string): Promise<UploadBatchRecord | undefined>;
  recordProcessing(batch: UploadBatchRecord, processing: RecordedProcessing): Promise<void>;
  providers: ProviderRegistry;
  schedule(message: RequestStatusMessage, delaySeconds: number): Promise<void>;
  now(): Date;
  /** First delay; doubled per check up to 15 minutes (CONVERSION_STATUS_CHECK_SECONDS). */
  firstDelaySeconds: number;
}

export type StatusResult = 'recorded' | 'rescheduled' | 'skipped';

export const statusDelaySeconds = (checks: number, first: number) =>
  backoffSeconds(checks, { baseSeconds: first });

export async function checkRequestStatus(
  message: RequestStatusMessage,
  deps: StatusDeps,
): Promise<StatusResult> {
  const batch = await deps.batch(message.tenant_id, message.batch_id);
  const provider = deps.providers[message.platform];
  if (!batch?.google_request_id || !provider?.requestStatus) return 'skipped';
  const again = async (): Promise<StatusResult> => {
    const next = { ...message, checks: message.checks + 1 };
    if (next.checks >= MAX_STATUS_CHECKS) return 'skipped';
    await deps.schedule(next, statusDelaySeconds(next.checks, deps.firstDelaySeconds));
    return 'rescheduled';
  };
  const connection = await provider.connect(message.tenant_id);
  if (connection.kind !== 'ready') return 'skipped';
  let status: Awaited<ReturnType<NonNullable<typeof provider.requestStatus>>>;
  try {
    status = await provider.requestStatus(connection.session, batch.google_request_id);
  } catch (error) {
    if (error instanceof ProviderFailure && error.kind === 'transient') return again();
    if (error instanceof ProviderFailure) return 'skipped';
    throw error;
  }
  const recorded: RecordedProcessing = {
    ...status,
    request_id: batch.google_request_id,
    checked_at: deps.now().toISOString(),
  };
  if (status.state === 'processing') {
    const result = await again();
    if (result === 'rescheduled') return result;
  }
  await deps.recordProcessing(batch, recorded);
  return 'recorded';
}

/** The status reads of a batch; one that fails is not worth a retry of the message: the next upload is checked anew. */
export async function checkRequestStatuses(
  messages: readonly RequestStatusMessage[],
  deps: StatusDeps,
): Promise<void> {
  for (const message of messages) {
    try {
      await checkRequestStatus(message, deps);
    } catch (error) {
      logger.warn('Could not read a request status', { batch_id: message.batch_id, error });
    }
  }
}
