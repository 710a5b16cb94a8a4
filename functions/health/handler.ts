import { appVersion } from '../shared/platform/config/resources';
import { httpHandler, json } from '../shared/platform/http/handler';
import { logger } from '../shared/platform/observability';
import {
  type CheckResult,
  cachedFor,
  httpStatusFor,
  type OverallStatus,
  overallStatus,
  runCheck,
} from './checks';
import { databaseProbe, encryptionProbe, externalApiChecks, queuesProbe } from './probes';

/** Seconds a health result is served before the probes run again (per instance). */
export const HEALTH_CACHE_SECONDS_DEFAULT = 5;
/** Seconds between two writes of the shared probe item (across all instances). */
export const HEALTH_WRITE_INTERVAL_SECONDS_DEFAULT = 10;
/** Deadline of each probe; the probes run side by side, so this bounds the answer. */
export const HEALTH_CHECK_TIMEOUT_MS_DEFAULT = 1_000;

const setting = (name: string, fallback: number): number => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value >= 0 ? value : fallback;
};

interface HealthReport {
  status: OverallStatus;
  timestamp: string;
  version: string;
  checks: Record<string, CheckResult>;
}

const logFailure = (check: string) => (error: unknown) =>
  logger.error('Health check failed', { check, error });

async function evaluate(): Promise<HealthReport> {
  const timeoutMs = setting('HEALTH_CHECK_TIMEOUT_MS', HEALTH_CHECK_TIMEOUT_MS_DEFAULT);
  const writeIntervalMs =
    setting('HEALTH_WRITE_INTERVAL_SECONDS', HEALTH_WRITE_INTERVAL_SECONDS_DEFAULT) * 1000;
  const [database, encryption, queues, external] = await Promise.all([
    runCheck(
      (signal) => databaseProbe(signal, writeIntervalMs),
      timeoutMs,
      undefined,
      logFailure('database'),
    ),
    runCheck(encryptionProbe, timeoutMs, undefined, logFailure('encryption')),
    runCheck(queuesProbe, timeoutMs, undefined, logFailure('queues')),
    externalApiChecks(timeoutMs, logFailure('circuits')),
  ]);
  const checks: Record<string, CheckResult> = { database, encryption, queues, ...external };
  const status = overallStatus(checks);
  if (status !== 'healthy') logger.warn('Health is not healthy', { status, checks });
  return { status, timestamp: new Date().toISOString(), version: appVersion(), checks };
}

/** The probes' last result, served to every caller for a few seconds: /health is public. */
export const currentHealth = cachedFor(
  evaluate,
  () => setting('HEALTH_CACHE_SECONDS', HEALTH_CACHE_SECONDS_DEFAULT) * 1000,
);

export const handler = httpHandler('health', {
  'GET /health': async () => {
    const report = await currentHealth();
    return json(httpStatusFor(report.status), report);
  },
});
