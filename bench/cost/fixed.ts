import { DIMENSION_VALUES, EMITTED_METRICS } from '../../contract/metrics';

/**
 * What a deployment costs whatever its traffic, read from the synthesized CloudFormation template
 * itself (alarms, dashboards, keys, secrets, WAF rules, the canary's schedule, log retention,
 * queues with consumers, tables) and from the metric catalogue (the custom metrics the functions
 * may emit). Nothing here is typed in by hand, so the cost model cannot drift from the stack.
 */
export interface FixedResources {
  /** Standard-resolution metric alarms, and the metrics they watch (CloudWatch bills per alarm metric). */
  readonly alarms: number;
  readonly alarmMetrics: number;
  readonly compositeAlarms: number;
  readonly dashboards: number;
  readonly kmsKeys: number;
  readonly secrets: number;
  readonly webAcls: number;
  /** Rules of the web ACLs, managed rule groups included (each is billed as a rule). */
  readonly wafRules: number;
  readonly canaries: number;
  readonly canaryRunsPerMonth: number;
  /** The longest retention of the functions' log groups, in days (what their logs cost at steady state). */
  readonly logRetentionDays: number;
  /** The longest retention of the other log groups (API access logs, WAF logs), in days. */
  readonly accessLogRetentionDays: number;
  readonly tables: number;
  /** Queues that a function consumes (their pollers long-poll even when idle). */
  readonly queuesWithConsumers: number;
  /** Custom metrics (name × dimension values) the functions may emit: an upper bound. */
  readonly customMetrics: number;
}

interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}
export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
}

/** Days in the billing month the model uses (30), and minutes in it. */
const MINUTES_PER_MONTH = 30 * 24 * 60;

/** Runs a month of a CloudWatch Synthetics / EventBridge `rate(...)` expression. */
export function runsPerMonth(expression: string): number {
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (!match) throw new Error(`Cannot price the schedule ${JSON.stringify(expression)}`);
  const every = Number(match[1]);
  if (every <= 0) return 0;
  const unit = match[2] as string;
  const minutes = unit.startsWith('minute') ? every : unit.startsWith('hour') ? every * 60 : every * 1440;
  return MINUTES_PER_MONTH / minutes;
}

/** Every name × dimension-value combination the catalogue allows (values outside a set become `other`). */
export function customMetricCount(): number {
  return EMITTED_METRICS.reduce(
    (sum, metric) =>
      sum + metric.dimensions.reduce((product, dimension) => product * DIMENSION_VALUES[dimension].length, 1),
    0,
  );
}

function ofType(template: CfnTemplate, type: string): CfnResource[] {
  return Object.values(template.Resources).filter((resource) => resource.Type === type);
}

/** A metric alarm watches one metric, or the metrics of its metric-math expression. */
function metricsOf(alarm: CfnResource): number {
  const metrics = alarm.Properties?.Metrics;
  if (!Array.isArray(metrics)) return 1;
  return metrics.filter((query) => typeof query === 'object' && query !== null && 'MetricStat' in query)
    .length;
}

export function fixedFromTemplate(template: CfnTemplate): FixedResources {
  const alarms = ofType(template, 'AWS::CloudWatch::Alarm');
  const canaries = ofType(template, 'AWS::Synthetics::Canary');
  const webAcls = ofType(template, 'AWS::WAFv2::WebACL');
  // The functions' log groups are those a function's logging configuration names.
  const functionLogGroups = new Set(
    ofType(template, 'AWS::Lambda::Function').map((fn) =>
      JSON.stringify((fn.Properties?.LoggingConfig as { LogGroup?: unknown } | undefined)?.LogGroup),
    ),
  );
  const operational: number[] = [];
  const access: number[] = [];
  for (const [id, group] of Object.entries(template.Resources)) {
    if (group.Type !== 'AWS::Logs::LogGroup') continue;
    const days = group.Properties?.RetentionInDays;
    // A log group without retention keeps its logs forever: price it as ten years.
    const kept = typeof days === 'number' ? days : 3650;
    (functionLogGroups.has(JSON.stringify({ Ref: id })) ? operational : access).push(kept);
  }
  const consumed = new Set(
    ofType(template, 'AWS::Lambda::EventSourceMapping').map((mapping) =>
      JSON.stringify(mapping.Properties?.EventSourceArn),
    ),
  );
  return {
    alarms: alarms.length,
    alarmMetrics: alarms.reduce((sum, alarm) => sum + metricsOf(alarm), 0),
    compositeAlarms: ofType(template, 'AWS::CloudWatch::CompositeAlarm').length,
    dashboards: ofType(template, 'AWS::CloudWatch::Dashboard').length,
    kmsKeys: ofType(template, 'AWS::KMS::Key').length,
    secrets: ofType(template, 'AWS::SecretsManager::Secret').length,
    webAcls: webAcls.length,
    wafRules: webAcls.reduce(
      (sum, acl) => sum + (Array.isArray(acl.Properties?.Rules) ? acl.Properties.Rules.length : 0),
      0,
    ),
    canaries: canaries.length,
    canaryRunsPerMonth: canaries.reduce((sum, canary) => {
      const schedule = canary.Properties?.Schedule as { Expression?: string } | undefined;
      return sum + runsPerMonth(schedule?.Expression ?? '');
    }, 0),
    logRetentionDays: Math.max(0, ...operational),
    accessLogRetentionDays: Math.max(0, ...access),
    tables: ofType(template, 'AWS::DynamoDB::Table').length,
    queuesWithConsumers: consumed.size,
    customMetrics: customMetricCount(),
  };
}
