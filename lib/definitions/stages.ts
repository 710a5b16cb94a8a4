/**
 * Per-stage settings for the stack and the functions. Pure data.
 */
import { DEFAULT_RATE_LIMITS, type LimitScope } from './rate-limits';

export type Stage = 'dev' | 'staging' | 'prod';
export const STAGES: readonly Stage[] = ['dev', 'staging', 'prod'];

export interface StageSettings {
  readonly stage: Stage;
  readonly logRetentionDays: 7 | 30 | 90 | 365;
  readonly throttlingRateLimit: number;
  readonly throttlingBurstLimit: number;
  /** DynamoDB deletion protection and RETAIN on removal. */
  readonly protectData: boolean;
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** Requests per hour: per client IP, per webhook source, per tenant (CONTRACT.md §4). */
  readonly rateLimits: Readonly<Record<LimitScope, number>>;
}

const CONTRACT_LIMITS = DEFAULT_RATE_LIMITS;

export const STAGE_SETTINGS: Readonly<Record<Stage, StageSettings>> = {
  dev: {
    stage: 'dev',
    logRetentionDays: 7,
    throttlingRateLimit: 50,
    throttlingBurstLimit: 100,
    protectData: false,
    logLevel: 'DEBUG',
    rateLimits: CONTRACT_LIMITS,
  },
  staging: {
    stage: 'staging',
    logRetentionDays: 30,
    throttlingRateLimit: 100,
    throttlingBurstLimit: 200,
    protectData: true,
    logLevel: 'INFO',
    rateLimits: CONTRACT_LIMITS,
  },
  prod: {
    stage: 'prod',
    logRetentionDays: 365,
    throttlingRateLimit: 500,
    throttlingBurstLimit: 1000,
    protectData: true,
    logLevel: 'INFO',
    rateLimits: CONTRACT_LIMITS,
  },
};

export function parseStage(value: unknown): Stage {
  if (typeof value === 'string' && (STAGES as readonly string[]).includes(value)) return value as Stage;
  throw new Error(`Unknown stage ${JSON.stringify(value)}: use one of ${STAGES.join(', ')}`);
}
