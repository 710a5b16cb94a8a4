import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
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

export interface StageSecretProps {
  readonly settings: StageSettings;
  readonly key: kms.IKey;
  /** What it holds: the description reads `AdsEngineer <stage>: <holds>`. */
  readonly holds: string;
  /** Why no rotation function rotates it (acknowledges cdk-nag's AwsSolutions-SMG4). */
  readonly notRotated: string;
  /** Length of the generated placeholder value (default 64). */
  readonly passwordLength?: number;
}

/**
 * A secret on the data key whose value is generated when the stack creates it (letters and
 * digits) and then set or rotated by whoever owns it, never by a Secrets Manager rotation function.
 */
export function stageSecret(scope: Construct, id: string, props: StageSecretProps): secretsmanager.Secret {
  const secret = new secretsmanager.Secret(scope, id, {
    description: `AdsEngineer ${props.settings.stage}: ${props.holds}`,
    encryptionKey: props.key,
    generateSecretString: {
      passwordLength: props.passwordLength ?? 64,
      excludePunctuation: true,
      includeSpace: false,
    },
    removalPolicy: removalPolicyFor(props.settings),
  });
  Validations.of(secret).acknowledge({ id: 'AwsSolutions-SMG4', reason: props.notRotated });
  return secret;
}
