/**
 * Service level objectives, burn-rate alerting windows and alarm thresholds. Pure data: the
 * monitoring construct turns them into alarms, the dashboards into panels, the runbook names them.
 *
 * Burn-rate alerting follows the Google SRE workbook ("Alerting on SLOs", multiwindow,
 * multi-burn-rate alerts): an alert fires when the error budget is being spent `factor` times
 * faster than the objective allows, measured over a long window, and is still being spent that
 * fast over a short window (1/12 of the long one), so it also resets quickly once the cause is
 * gone. The workbook's recommended table for a 30-day objective:
 *
 * | budget consumed | long window | short window | burn rate | action |
 * |---|---|---|---|---|
 * | 2 %  | 1 h  | 5 min | 14.4 | page |
 * | 5 %  | 6 h  | 30 min | 6   | page |
 * | 10 % | 3 d  | 6 h   | 1    | ticket (here: a Slack warning) |
 */
import type { QueueId } from './resources';

export type Severity = 'critical' | 'warning';

/** The window objectives are counted over. */
export const SLO_PERIOD_DAYS = 30;

export interface BurnRateWindow {
  readonly name: 'Fast' | 'Medium' | 'Slow';
  readonly longMinutes: number;
  readonly shortMinutes: number;
  /** How many times faster than sustainable the budget is being spent. */
  readonly factor: number;
  readonly severity: Severity;
}

export const BURN_RATE_WINDOWS: readonly BurnRateWindow[] = [
  { name: 'Fast', longMinutes: 60, shortMinutes: 5, factor: 14.4, severity: 'critical' },
  { name: 'Medium', longMinutes: 6 * 60, shortMinutes: 30, factor: 6, severity: 'critical' },
  { name: 'Slow', longMinutes: 3 * 24 * 60, shortMinutes: 6 * 60, factor: 1, severity: 'warning' },
];

/** Share of the period's error budget spent when an alert of this window fires. */
export function budgetConsumed(window: BurnRateWindow, periodDays = SLO_PERIOD_DAYS): number {
  return (window.factor * window.longMinutes) / (periodDays * 24 * 60);
}

/** The bad-event ratio at which a window's alert fires: burn rate times the error budget. */
export function burnRateThreshold(objective: number, factor: number): number {
  return factor * (1 - objective);
}

export interface ServiceLevelObjective {
  readonly id: 'Availability' | 'Latency';
  /** Share of good events over the period (0..1). */
  readonly objective: number;
  readonly good: string;
  /** Runbook section. */
  readonly runbook: string;
}

/** Requests the gateway did not answer 5xx must be 99.9 %. */
export const AVAILABILITY_SLO: ServiceLevelObjective = {
  id: 'Availability',
  objective: 0.999,
  good: 'API requests not answered 5xx (API Gateway 5XXError / Count)',
  runbook: 'slo-availability',
};

/** p95 under 500 ms at the gateway: 95 % of requests answered within 500 ms. */
export const LATENCY_THRESHOLD_MS = 500;
export const LATENCY_SLO: ServiceLevelObjective = {
  id: 'Latency',
  objective: 0.95,
  good: `API requests answered within ${LATENCY_THRESHOLD_MS} ms at the gateway (API Gateway Latency, percentile rank)`,
  runbook: 'slo-latency',
};

export const SLOS: readonly ServiceLevelObjective[] = [AVAILABILITY_SLO, LATENCY_SLO];

/**
 * The oldest message a queue may hold before someone is told: webhooks and conversions waiting
 * that long mean uploads are stuck (pages); a backup job waiting is a warning.
 */
export const QUEUE_AGE_ALARMS: Readonly<Record<QueueId, { maxAgeSeconds: number; severity: Severity }>> = {
  webhooks: { maxAgeSeconds: 15 * 60, severity: 'critical' },
  conversions: { maxAgeSeconds: 60 * 60, severity: 'critical' },
  backups: { maxAgeSeconds: 2 * 60 * 60, severity: 'warning' },
};

/** Other thresholds, each over 5 minutes. */
export const THRESHOLDS = {
  /** Share of a function's invocations that failed (warning; user impact is the SLO's job). */
  functionErrorRate: 0.05,
  /** Throttled invocations of a function (warning). */
  functionThrottles: 1,
  /** Read plus write throttle events of a table (warning). */
  tableThrottles: 1,
  /** Webhook deliveries refused for their signature, all senders together (warning). */
  signatureFailures: 20,
  /** Bearer tokens and API keys refused (warning). */
  tokenFailures: 50,
} as const;

/**
 * The uptime canary: how many failed runs of the last few page. How often it runs is a stage
 * setting (`canaryEveryMinutes`, stages.ts).
 */
export const CANARY = {
  /** Canary names are at most 21 characters: `ae-staging-api`. */
  name: (stage: string) => `ae-${stage}-api`,
  failedRunsToPage: 2,
  ofLastRuns: 3,
} as const;

/** Where alarm descriptions point; `-c runbookBaseUrl=` gives a browsable URL for the same file. */
export const RUNBOOK_PATH = 'docs/runbook.md';

/** `DlqWebhooks` → `dlq-webhooks`: the anchor a Markdown heading of that text gets. */
export function anchorOf(text: string): string {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .toLowerCase();
}

/** `[critical] text Runbook: <base>#anchor`: severity and runbook read back by `alarms list`. */
export function alarmDescription(severity: Severity, text: string, runbookUrl: string): string {
  return `[${severity}] ${text} Runbook: ${runbookUrl}`;
}

export interface ParsedAlarmDescription {
  readonly severity?: Severity;
  readonly runbook?: string;
}

export function parseAlarmDescription(description: string | undefined): ParsedAlarmDescription {
  const severity = /^\[(critical|warning)\]/.exec(description ?? '')?.[1] as Severity | undefined;
  const runbook = /Runbook: (\S+)\s*$/.exec(description ?? '')?.[1];
  return { ...(severity ? { severity } : {}), ...(runbook ? { runbook } : {}) };
}
