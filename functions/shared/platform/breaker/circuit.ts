/**
 * The circuit breaker's state machine: pure functions of a stored circuit, the time and the
 * settings. No I/O and no clock of its own, so every transition is tested against a fake clock;
 * `breaker.ts` reads and writes circuits through a store shared by every instance.
 *
 * closed ──(threshold failures within the window)──► open ──(open time over)──► half_open
 *   ▲                                                  ▲                           │ one probe
 *   └───────────────(the probe succeeds)───────────────┴──(the probe fails)────────┘
 */

import { CIRCUIT_PROVIDERS } from '../../../../contract/metrics';

export const PROVIDERS = CIRCUIT_PROVIDERS;
export type Provider = (typeof PROVIDERS)[number];
export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitSettings {
  /** Provider failures within `windowMs` that open the circuit. */
  readonly failureThreshold: number;
  readonly windowMs: number;
  /** How long an open circuit refuses calls before one probe is let through. */
  readonly openMs: number;
  /** How long a probe holds its lease; an instance that dies mid-probe frees it after this. */
  readonly probeLeaseMs: number;
  /** A closed circuit records its last success at most this often (one write per interval). */
  readonly successWriteIntervalMs: number;
}

export const DEFAULT_FAILURE_THRESHOLD = 5;
export const DEFAULT_OPEN_SECONDS = 60;
export const WINDOW_SECONDS = 60;

function positiveInteger(value: string | undefined, fallback: number): number {
  const parsed = Number(value);
  return Number.isInteger(parsed) && parsed > 0 ? parsed : fallback;
}

/** `CIRCUIT_FAILURE_THRESHOLD` (default 5) and `CIRCUIT_OPEN_SECONDS` (default 60). */
export function circuitSettings(env: NodeJS.ProcessEnv = process.env): CircuitSettings {
  const openSeconds = positiveInteger(env.CIRCUIT_OPEN_SECONDS, DEFAULT_OPEN_SECONDS);
  return {
    failureThreshold: positiveInteger(env.CIRCUIT_FAILURE_THRESHOLD, DEFAULT_FAILURE_THRESHOLD),
    windowMs: WINDOW_SECONDS * 1000,
    openMs: openSeconds * 1000,
    probeLeaseMs: Math.max(30, openSeconds) * 1000,
    successWriteIntervalMs: 10_000,
  };
}

/** One provider's circuit as stored. Times are epoch milliseconds. */
export interface Circuit {
  readonly state: CircuitState;
  /** Bumped by every write: writes are conditional on the version they read. 0: never stored. */
  readonly version: number;
  /** Recent provider failures while closed (at most `failureThreshold`, oldest first). */
  readonly failures: readonly number[];
  /** When the current outage began (first opening since the circuit was last closed). */
  readonly openedAt?: number;
  /** While open: when the circuit half-opens. */
  readonly openUntil?: number;
  /** While half-open: the probe holding the lease, and until when. */
  readonly probeId?: string;
  readonly probeUntil?: number;
  readonly lastSuccessAt?: number;
  readonly lastFailureAt?: number;
  /** When the state last changed. */
  readonly changedAt?: number;
}

export const CLOSED: Circuit = { state: 'closed', version: 0, failures: [] };

export interface Transition {
  readonly from: CircuitState;
  readonly to: CircuitState;
}

/**
 * What a caller may do now:
 * - `call`: the circuit is closed.
 * - `probe`: the one probe of a half-open circuit, if writing `next` wins the lease.
 * - `refuse`: no call to the provider; try again after `retryAfterMs`.
 */
export type Decision =
  | { readonly kind: 'call' }
  | { readonly kind: 'probe'; readonly next: Circuit; readonly transition?: Transition }
  | { readonly kind: 'refuse'; readonly retryAfterMs: number };

export function decide(circuit: Circuit, now: number, settings: CircuitSettings, probeId: string): Decision {
  if (circuit.state === 'closed') return { kind: 'call' };
  if (circuit.state === 'open' && now < (circuit.openUntil ?? 0)) {
    return { kind: 'refuse', retryAfterMs: (circuit.openUntil ?? now) - now };
  }
  if (circuit.state === 'half_open' && now < (circuit.probeUntil ?? 0)) {
    // The probe usually answers within seconds: look again after an open period at the latest.
    return { kind: 'refuse', retryAfterMs: Math.min((circuit.probeUntil ?? now) - now, settings.openMs) };
  }
  // Open and its time is over, or half-open with a free (or expired) lease: take the lease.
  const next: Circuit = {
    ...circuit,
    state: 'half_open',
    version: circuit.version + 1,
    probeId,
    probeUntil: now + settings.probeLeaseMs,
    openUntil: undefined,
    ...(circuit.state === 'open' ? { changedAt: now } : {}),
  };
  return {
    kind: 'probe',
    next,
    ...(circuit.state === 'open' ? { transition: { from: 'open', to: 'half_open' } as const } : {}),
  };
}

/**
 * - `success`: the provider answered (including answers that are the caller's fault: a row
 *   error, a validation error, one tenant's bad credentials).
 * - `failure`: the provider is unwell (timeout, connection error, 5xx, 429 after retries).
 * - `neutral`: the call never reached the provider or says nothing about it.
 */
export type Outcome = 'success' | 'failure' | 'neutral';

export interface Update {
  readonly next: Circuit;
  readonly transition?: Transition;
}

function opened(circuit: Circuit, now: number, settings: CircuitSettings): Circuit {
  return {
    ...circuit,
    state: 'open',
    version: circuit.version + 1,
    failures: [],
    openedAt: circuit.state === 'closed' ? now : (circuit.openedAt ?? now),
    openUntil: now + settings.openMs,
    probeId: undefined,
    probeUntil: undefined,
    lastFailureAt: now,
    changedAt: now,
  };
}

function closed(circuit: Circuit, now: number): Circuit {
  return {
    ...circuit,
    state: 'closed',
    version: circuit.version + 1,
    failures: [],
    openedAt: undefined,
    openUntil: undefined,
    probeId: undefined,
    probeUntil: undefined,
    lastSuccessAt: now,
    changedAt: now,
  };
}

/**
 * The circuit after a call ended with `outcome`; `probeId` names the caller's lease when its call
 * was the probe. Undefined when nothing needs writing.
 */
export function afterCall(
  circuit: Circuit,
  outcome: Outcome,
  now: number,
  settings: CircuitSettings,
  probeId?: string,
): Update | undefined {
  if (probeId !== undefined) {
    // Someone else moved the circuit on (an operator closed it, the lease expired and another
    // probe took it): this probe's result no longer decides anything.
    if (circuit.state !== 'half_open' || circuit.probeId !== probeId) return undefined;
    if (outcome === 'success')
      return { next: closed(circuit, now), transition: { from: 'half_open', to: 'closed' } };
    if (outcome === 'failure')
      return { next: opened(circuit, now, settings), transition: { from: 'half_open', to: 'open' } };
    // Nothing learned: free the lease so the next caller probes.
    return { next: { ...circuit, version: circuit.version + 1, probeId: undefined, probeUntil: now } };
  }
  if (circuit.state !== 'closed' || outcome === 'neutral') return undefined;
  if (outcome === 'success') {
    if (circuit.lastSuccessAt !== undefined && now - circuit.lastSuccessAt < settings.successWriteIntervalMs)
      return undefined;
    return { next: { ...circuit, version: circuit.version + 1, lastSuccessAt: now } };
  }
  const failures = [...circuit.failures.filter((at) => now - at < settings.windowMs), now].slice(
    -settings.failureThreshold,
  );
  if (failures.length >= settings.failureThreshold) {
    return { next: opened(circuit, now, settings), transition: { from: 'closed', to: 'open' } };
  }
  return { next: { ...circuit, version: circuit.version + 1, failures, lastFailureAt: now } };
}

/** An operator's emergency override: closed now, failures forgotten. */
export function forcedClosed(circuit: Circuit, now: number): Update {
  return {
    next: { ...closed(circuit, now), lastSuccessAt: circuit.lastSuccessAt },
    ...(circuit.state !== 'closed' ? { transition: { from: circuit.state, to: 'closed' as const } } : {}),
  };
}

/** How long a caller should wait before trying a circuit that is not closed. */
export function waitMs(circuit: Circuit, now: number, settings: CircuitSettings): number {
  if (circuit.state === 'open') return Math.max(0, (circuit.openUntil ?? now) - now);
  if (circuit.state === 'half_open')
    return Math.max(0, Math.min((circuit.probeUntil ?? now) - now, settings.openMs));
  return 0;
}

/** Seconds until a refused caller may try again: at least 1. */
export function retryAfterSeconds(retryAfterMs: number): number {
  return Math.max(1, Math.ceil(retryAfterMs / 1000));
}
