/** Health aggregation rules; no I/O here. */
export type CheckStatus = 'pass' | 'warn' | 'fail';
export type OverallStatus = 'healthy' | 'degraded' | 'unhealthy';
export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CheckResult {
  status: CheckStatus;
  latency_ms: number;
  detail?: string;
  /** External APIs only: the state of the shared circuit breaker. */
  circuit?: CircuitState;
  /** External APIs only: the last call that succeeded, when known. */
  last_success_at?: string;
}

export type CheckOutcome = Omit<CheckResult, 'status' | 'latency_ms'> & {
  status: Exclude<CheckStatus, 'fail'>;
};

/** Any failed check makes the service unhealthy; any warning degrades it. */
export function overallStatus(checks: Readonly<Record<string, CheckResult>>): OverallStatus {
  const statuses = Object.values(checks).map((c) => c.status);
  if (statuses.includes('fail')) return 'unhealthy';
  if (statuses.includes('warn')) return 'degraded';
  return 'healthy';
}

export function httpStatusFor(status: OverallStatus): number {
  return status === 'unhealthy' ? 503 : 200;
}

/**
 * An external API as health sees it (docs/operations.md, Health): an open or half-open circuit degrades the
 * service, it never makes it unhealthy, because queued work waits for the circuit rather than
 * failing.
 */
export function circuitOutcome(circuit: CircuitState, lastSuccessAt?: string): CheckOutcome {
  const known = lastSuccessAt ? { last_success_at: lastSuccessAt } : {};
  if (circuit === 'closed') return { status: 'pass', circuit, ...known };
  return {
    status: 'warn',
    circuit,
    ...known,
    detail:
      circuit === 'open'
        ? 'circuit open: calls are held until it half-opens'
        : 'circuit half-open: one probe call decides whether it closes',
  };
}

/**
 * Whether the health probe should write the database now: only when the shared probe item was
 * last written `intervalMs` ago or more (by any instance), so a burst of calls to the public
 * endpoint costs at most one write per interval.
 */
export function probeWriteDue(writtenAtMs: number | undefined, nowMs: number, intervalMs: number): boolean {
  return writtenAtMs === undefined || !Number.isFinite(writtenAtMs) || nowMs - writtenAtMs >= intervalMs;
}

/**
 * Runs one check with a deadline. Failures are reported by kind only: an error message from a
 * dependency may carry internals, so it goes to the log, not to the caller.
 */
export async function runCheck(
  run: (signal: AbortSignal) => Promise<CheckOutcome>,
  timeoutMs: number,
  now: () => number = () => performance.now(),
  onError: (error: unknown) => void = () => {},
): Promise<CheckResult> {
  const started = now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`timed out after ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    const outcome = await Promise.race([run(controller.signal), deadline]);
    return { ...outcome, latency_ms: Math.round(now() - started) };
  } catch (error) {
    onError(error);
    const timedOut = controller.signal.aborted;
    return {
      status: 'fail',
      latency_ms: Math.round(now() - started),
      detail: timedOut ? `no answer within ${timeoutMs} ms` : 'check failed',
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Serves the result of `run` for `ttlMs` after it settles, and shares one run among concurrent
 * callers: a burst of calls costs one run per interval per instance.
 */
export function cachedFor<T>(
  run: () => Promise<T>,
  ttlMs: number | (() => number),
  now: () => number = Date.now,
) {
  const ttl = typeof ttlMs === 'number' ? () => ttlMs : ttlMs;
  let settled: { at: number; value: T } | undefined;
  let inflight: Promise<T> | undefined;
  const get = (): Promise<T> => {
    if (settled && now() - settled.at < ttl()) return Promise.resolve(settled.value);
    if (inflight) return inflight;
    const started = run().then(
      (value) => {
        settled = { at: now(), value };
        inflight = undefined;
        return value;
      },
      (error: unknown) => {
        inflight = undefined;
        throw error;
      },
    );
    inflight = started;
    return started;
  };
  /** Forgets the cached result (tests, and the first call after a configuration change). */
  get.reset = () => {
    settled = undefined;
    inflight = undefined;
  };
  return get;
}
