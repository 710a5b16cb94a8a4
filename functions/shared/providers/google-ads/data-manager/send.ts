import type { ConversionFieldWarning } from '../../../features/conversions/model';
import type { RowOutcome, SendResult, SentRequest } from '../../../features/conversions/ports-provider';
import { DataManagerRejection, type IngestAnswer } from './client';
import { eventProblem, type IngestEvent } from './request';
import { violationReason } from './results';

/**
 * Sending events when one bad event rejects the whole request: events Google would refuse are
 * failed before sending; when Google still rejects a request, the events its error names are
 * failed and the rest sent again; when it names none, the batch is halved until the bad events
 * stand alone. Good events are accepted once, each bad one fails with a readable reason; the
 * field warnings of an accepted request go to the events they name. No I/O here: `ingest` makes
 * the call.
 */
export type Ingest = (events: IngestEvent[]) => Promise<IngestAnswer>;

export async function sendEvents(
  events: readonly IngestEvent[],
  ingest: Ingest,
  clock: () => number = Date.now,
): Promise<SendResult> {
  const outcomes: RowOutcome[] = new Array(events.length);
  const requestIds: Array<string | undefined> = new Array(events.length).fill(undefined);
  const requests: SentRequest[] = [];
  const valid: number[] = [];
  for (const [i, event] of events.entries()) {
    const problem = eventProblem(event);
    if (problem) outcomes[i] = { kind: 'failed', reason: `The conversion cannot be sent: ${problem}` };
    else valid.push(i);
  }

  const attempt = async (rows: number[]): Promise<void> => {
    if (rows.length === 0) return;
    const started = clock();
    try {
      const { requestId, fieldWarnings = [] } = await ingest(rows.map((i) => events[i] as IngestEvent));
      // A warning's event index is its place in this request; `row` is its place in `events`.
      const warnings = fieldWarnings.map(({ reason, field, eventIndex }) => ({
        reason,
        ...(field !== undefined ? { field } : {}),
        ...(eventIndex !== undefined && eventIndex < rows.length ? { row: rows[eventIndex] as number } : {}),
      }));
      requests.push({
        ...(requestId ? { requestId } : {}),
        rows,
        durationMs: clock() - started,
        processedLater: true,
        ...(warnings.length > 0 ? { fieldWarnings: warnings } : {}),
      });
      for (const i of rows) {
        const own: ConversionFieldWarning[] = warnings
          .filter((warning) => warning.row === i)
          .map(({ row: _row, ...warning }) => warning);
        outcomes[i] = { kind: 'uploaded', ...(own.length > 0 ? { fieldWarnings: own } : {}) };
        requestIds[i] = requestId;
      }
    } catch (error) {
      if (!(error instanceof DataManagerRejection)) throw error;
      const named = new Map<number, (typeof error.summary.violations)[number]>();
      for (const violation of error.summary.violations) {
        const index = violation.eventIndex;
        if (index !== undefined && index >= 0 && index < rows.length && !named.has(index))
          named.set(index, violation);
      }
      if (named.size > 0) {
        for (const [index, violation] of named)
          outcomes[rows[index] as number] = {
            kind: 'failed',
            reason: violationReason(violation, error.summary.message),
            ...(violation.reason ? { code: violation.reason } : {}),
          };
        await attempt(rows.filter((_row, index) => !named.has(index)));
        return;
      }
      if (rows.length === 1) {
        outcomes[rows[0] as number] = {
          kind: 'failed',
          reason: violationReason(error.summary.violations[0], error.summary.message),
        };
        return;
      }
      const half = Math.ceil(rows.length / 2);
      await attempt(rows.slice(0, half));
      await attempt(rows.slice(half));
    }
  };
  await attempt(valid);
  return { outcomes, requestIds, requests };
}
