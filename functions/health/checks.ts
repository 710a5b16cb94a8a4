/** Health aggregation rules; no I/O here. */
export type CheckStatus = 'pass' | 'warn' | 'fail';
export type OverallStatus = 'healthy' | 'degraded' | 'unhealthy';

export interface CheckResult {
  status: CheckStatus;
  latency_ms: number;
  detail?: string;
}

export interface CheckOutcome {
  status: Exclude<CheckStatus, 'fail'>;
  detail?: string;
}

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
