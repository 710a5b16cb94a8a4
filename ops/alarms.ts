import {
  CloudWatchClient,
  type CompositeAlarm,
  DescribeAlarmsCommand,
  type MetricAlarm,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import { AwsQueryProtocol } from '@aws-sdk/core/protocols';
import { parseAlarmDescription, type Severity } from '../contract/monitoring';

export interface AlarmSummary {
  readonly name: string;
  readonly kind: 'metric' | 'composite';
  readonly severity?: Severity;
  readonly state: string;
  readonly runbook?: string;
  /** Whether ALARM and OK both notify (the paging path). */
  readonly notifies: boolean;
}

/**
 * CloudWatch over its query protocol, which it has always spoken (its newer JSON protocol is
 * query-compatible), and which the local emulator speaks too.
 */
export function cloudWatchClient(): CloudWatchClient {
  return new CloudWatchClient({
    region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    protocol: AwsQueryProtocol,
  });
}

function summary(alarm: MetricAlarm | CompositeAlarm, kind: AlarmSummary['kind']): AlarmSummary {
  const { severity, runbook } = parseAlarmDescription(alarm.AlarmDescription);
  return {
    name: alarm.AlarmName ?? '',
    kind,
    state: alarm.StateValue ?? 'UNKNOWN',
    notifies: (alarm.AlarmActions?.length ?? 0) > 0 && (alarm.OKActions?.length ?? 0) > 0,
    ...(severity ? { severity } : {}),
    ...(runbook ? { runbook } : {}),
  };
}

/** Every metric and composite alarm whose name starts with the prefix, sorted by name. */
export async function listAlarms(
  prefix: string,
  cloudwatch: CloudWatchClient = cloudWatchClient(),
): Promise<AlarmSummary[]> {
  const found: AlarmSummary[] = [];
  let NextToken: string | undefined;
  try {
    do {
      const page = await cloudwatch.send(
        new DescribeAlarmsCommand({
          AlarmNamePrefix: prefix,
          AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
          MaxRecords: 100,
          NextToken,
        }),
      );
      for (const alarm of page.MetricAlarms ?? []) found.push(summary(alarm, 'metric'));
      for (const alarm of page.CompositeAlarms ?? []) found.push(summary(alarm, 'composite'));
      NextToken = page.NextToken;
    } while (NextToken);
  } finally {
    cloudwatch.destroy();
  }
  return found.sort((a, b) => a.name.localeCompare(b.name));
}

/** One line per alarm, aligned: name, severity, state, runbook section. */
export function formatAlarmTable(alarms: readonly AlarmSummary[]): string[] {
  const rows = [
    ['ALARM', 'SEVERITY', 'STATE', 'RUNBOOK'],
    ...alarms.map((a) => [
      a.name,
      a.notifies
        ? (a.severity ?? 'unknown')
        : `${a.severity ?? 'unknown'} (window, notifies through its composite)`,
      a.state,
      a.runbook?.replace(/^.*#/, '#') ?? '-',
    ]),
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i < 3 ? cell.padEnd(widths[i] ?? 0) : cell)).join('  '));
}

export interface TestAlarmOptions {
  /** Seconds the alarm stays in ALARM, so the incident can be seen opening before it resolves. */
  readonly holdSeconds: number;
  readonly progress?: (line: string) => void;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly cloudwatch?: CloudWatchClient;
}

/**
 * Proves the paging path: sets the alarm to ALARM (its actions notify PagerDuty and Slack), holds
 * it, then sets it to OK (the same topic resolves the incident). Refuses an alarm that does not
 * notify on both transitions, since its test would prove nothing.
 */
export async function testAlarm(name: string, options: TestAlarmOptions): Promise<void> {
  const progress = options.progress ?? (() => {});
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const cloudwatch = options.cloudwatch ?? cloudWatchClient();
  try {
    const found = await cloudwatch.send(
      new DescribeAlarmsCommand({ AlarmNames: [name], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }),
    );
    const alarm = found.MetricAlarms?.[0] ?? found.CompositeAlarms?.[0];
    if (!alarm) throw new Error(`There is no alarm named ${name}: see \`alarms list\` for the names.`);
    if (!alarm.AlarmActions?.length || !alarm.OKActions?.length) {
      throw new Error(
        `${name} does not notify on both ALARM and OK (a burn-rate window alarm?): test the alarm it feeds instead.`,
      );
    }
    const reason = 'Operator test of the paging path (adsengineer alarms test); no action needed';
    progress(`Setting ${name} to ALARM: PagerDuty and Slack should open a test incident now.`);
    await cloudwatch.send(
      new SetAlarmStateCommand({ AlarmName: name, StateValue: 'ALARM', StateReason: reason }),
    );
    for (let left = options.holdSeconds; left > 0; left -= 10) {
      progress(`  holding ALARM, ${left} s left`);
      await sleep(Math.min(10, left) * 1000);
    }
    progress(`Setting ${name} back to OK: the incident should resolve.`);
    await cloudwatch.send(
      new SetAlarmStateCommand({ AlarmName: name, StateValue: 'OK', StateReason: `${reason}: resolved` }),
    );
  } finally {
    if (!options.cloudwatch) cloudwatch.destroy();
  }
}
