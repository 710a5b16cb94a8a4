import { RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { LogRetentionDays, StageSettings } from '../../contract/stages';

/** `rateLimits` -> `RateLimits`: construct ids and output names from definition ids. */
export function pascal(id: string): string {
  return id.charAt(0).toUpperCase() + id.slice(1);
}

/** A map keyed by definition id that fails loudly on an id nobody created. */
export class Registry<K extends string, V> {
  private readonly items = new Map<K, V>();

  constructor(private readonly kind: string) {}

  set(id: K, value: V): void {
    this.items.set(id, value);
  }

  get(id: K): V {
    const found = this.items.get(id);
    if (found === undefined) throw new Error(`No ${this.kind} ${id} in the stack`);
    return found;
  }

  entries(): [K, V][] {
    return [...this.items.entries()];
  }
}

/** Protected stages keep their data when a resource leaves the stack; the others clean up. */
export function removalPolicyFor(settings: StageSettings): RemovalPolicy {
  return settings.protectData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
}

const RETENTION: Readonly<Record<LogRetentionDays, logs.RetentionDays>> = {
  7: logs.RetentionDays.ONE_WEEK,
  14: logs.RetentionDays.TWO_WEEKS,
  30: logs.RetentionDays.ONE_MONTH,
  90: logs.RetentionDays.THREE_MONTHS,
  365: logs.RetentionDays.ONE_YEAR,
};

/**
 * Log retention of the stage by what the log group is for: `operational` (function logs) or
 * `access` (API access logs, WAF logs), see {@link StageSettings}.
 */
export function logRetention(
  settings: StageSettings,
  kind: 'operational' | 'access' = 'operational',
): logs.RetentionDays {
  return RETENTION[kind === 'access' ? settings.accessLogRetentionDays : settings.logRetentionDays];
}
