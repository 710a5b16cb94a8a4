/**
 * Per-stage settings for the stack and the functions. Pure data.
 */
import { DEFAULT_RATE_LIMITS, type LimitScope } from './rate-limits';

export type Stage = 'dev' | 'staging' | 'prod';
export const STAGES: readonly Stage[] = ['dev', 'staging', 'prod'];

/** Retention periods CloudWatch Logs offers that the stages use. */
export type LogRetentionDays = 7 | 14 | 30 | 90 | 365;

export interface StageSettings {
  readonly stage: Stage;
  /**
   * Operational logs: the functions' log groups and the canary's run artifacts. They serve
   * debugging an incident, which alarms surface within minutes, and a post-mortem within weeks;
   * they hold no personal data by design, but nothing is kept longer than it serves.
   */
  readonly logRetentionDays: LogRetentionDays;
  /**
   * Access logs: API Gateway access logs, WAF logs and S3 server access logs. They serve security
   * investigations (abuse, a leaked key, credential stuffing), often started weeks after the
   * fact, so they outlive the operational logs; they hold client IP addresses (personal data), so
   * not for a year.
   */
  readonly accessLogRetentionDays: LogRetentionDays;
  /**
   * Minutes between runs of the uptime canary. Every minute in prod, where a user-facing outage
   * must page within minutes; every 5 minutes elsewhere, where nobody is paged at night and a run
   * costs the same ($0.0012): 8,640 runs a month instead of 43,200.
   */
  readonly canaryEveryMinutes: 1 | 5;
  readonly throttlingRateLimit: number;
  readonly throttlingBurstLimit: number;
  /** DynamoDB deletion protection and RETAIN on removal. */
  readonly protectData: boolean;
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** Requests per hour: per client IP, per webhook source, per tenant (docs/api.md, Rate limits). */
  readonly rateLimits: Readonly<Record<LimitScope, number>>;
}

export const STAGE_SETTINGS: Readonly<Record<Stage, StageSettings>> = {
  dev: {
    stage: 'dev',
    logRetentionDays: 7,
    accessLogRetentionDays: 7,
    canaryEveryMinutes: 5,
    throttlingRateLimit: 50,
    throttlingBurstLimit: 100,
    protectData: false,
    logLevel: 'DEBUG',
    rateLimits: DEFAULT_RATE_LIMITS,
  },
  staging: {
    stage: 'staging',
    logRetentionDays: 14,
    accessLogRetentionDays: 30,
    canaryEveryMinutes: 5,
    throttlingRateLimit: 100,
    throttlingBurstLimit: 200,
    protectData: true,
    logLevel: 'INFO',
    rateLimits: DEFAULT_RATE_LIMITS,
  },
  prod: {
    stage: 'prod',
    logRetentionDays: 30,
    accessLogRetentionDays: 90,
    canaryEveryMinutes: 1,
    throttlingRateLimit: 500,
    throttlingBurstLimit: 1000,
    protectData: true,
    logLevel: 'INFO',
    rateLimits: DEFAULT_RATE_LIMITS,
  },
};

export function parseStage(value: unknown): Stage {
  if (typeof value === 'string' && (STAGES as readonly string[]).includes(value)) return value as Stage;
  throw new Error(`Unknown stage ${JSON.stringify(value)}: use one of ${STAGES.join(', ')}`);
}
