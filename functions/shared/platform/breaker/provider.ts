import {
  type AdjustmentRow,
  type ConversionProvider,
  ProviderFailure,
} from '../../features/conversions/ports-provider';
import type { CircuitBreaker } from './breaker';
import type { Outcome } from './circuit';

/**
 * An ad platform's provider whose requests go through the platform's shared breaker: `send` (the
 * uploads), `adjust` (retractions and restatements) and `requestStatus` (reads of processing
 * outcomes). While the circuit is open they throw CircuitOpenError without a request; the
 * uploader then lets the messages wait.
 */
export function guardedProvider<Session>(
  provider: ConversionProvider<Session>,
  breaker: CircuitBreaker,
  classify: (error: unknown) => Outcome,
): ConversionProvider<Session> {
  const requestStatus = provider.requestStatus?.bind(provider);
  const adjust = provider.adjust?.bind(provider);
  return {
    platform: provider.platform,
    transport: provider.transport,
    maxPerRequest: provider.maxPerRequest,
    connect: (tenantId) => provider.connect(tenantId),
    rejectionReason: (row, now) => provider.rejectionReason(row, now),
    send: (session, rows, now) => breaker.call(() => provider.send(session, rows, now), classify),
    onFailure: (tenantId, session, failure) => provider.onFailure(tenantId, session, failure),
    ...(requestStatus
      ? {
          requestStatus: (session: Session, id: string) =>
            breaker.call(() => requestStatus(session, id), classify),
        }
      : {}),
    ...(adjust
      ? {
          adjust: (session: Session, rows: AdjustmentRow[], now: Date) =>
            breaker.call(() => adjust(session, rows, now), classify),
        }
      : {}),
  };
}

/**
 * What a provider's failure says about the platform's health: a transient failure without a
 * status (timeout, connection error), with 5xx or 429 means the platform is unwell; any other
 * failure is the platform answering (one tenant's token or settings, a refused request).
 */
export function providerFailureOutcome(error: unknown): Outcome {
  if (!(error instanceof ProviderFailure)) return 'neutral';
  if (error.kind !== 'transient') return 'success';
  if (error.status === undefined || error.status === 429 || error.status >= 500) return 'failure';
  return 'success';
}
