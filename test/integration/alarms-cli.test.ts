import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { AwsQueryProtocol } from '@aws-sdk/core/protocols';
import { alarmDescription } from '../../contract/monitoring';
import { testAlarm } from '../../ops/alarms';
import { run } from '../../ops/cli';
import { queueDepthAlarm } from '../support/alarms';
import { emulatorUrl, freshResources } from '../support/emulator';
import { capture } from '../support/operator';

const PREFIX = 'AdsEngineer-itest-';
const config = () => ({ endpoint: emulatorUrl(), region: 'us-east-1' });
const cloudWatchConfig = () => ({ ...config(), protocol: AwsQueryProtocol });

async function state(cloudwatch: CloudWatchClient, name: string): Promise<string | undefined> {
  const out = await cloudwatch.send(
    new DescribeAlarmsCommand({ AlarmNames: [name], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }),
  );
  return (out.MetricAlarms?.[0] ?? out.CompositeAlarms?.[0])?.StateValue;
}

describe('alarms list and alarms test against the emulator CloudWatch', () => {
  let cloudwatch: CloudWatchClient;

  beforeAll(async () => {
    await freshResources();
    cloudwatch = new CloudWatchClient(cloudWatchConfig());
    const sns = new SNSClient(config());
    const critical = (await sns.send(new CreateTopicCommand({ Name: 'itest-critical' }))).TopicArn as string;
    const warning = (await sns.send(new CreateTopicCommand({ Name: 'itest-warning' }))).TopicArn as string;
    sns.destroy();
    const metricAlarm = (name: string, description: string, topic?: string) =>
      queueDepthAlarm({
        name: `${PREFIX}${name}`,
        description,
        queueName: 'itest-dlq',
        treatMissingData: 'notBreaching',
        ...(topic ? { topic } : {}),
      });
    await cloudwatch.send(
      metricAlarm(
        'DlqWebhooks',
        alarmDescription('critical', 'Dead letters.', 'docs/runbook.md#dead-letters'),
        critical,
      ),
    );
    await cloudwatch.send(
      metricAlarm(
        'ErrorsApi',
        alarmDescription('warning', 'Errors.', 'docs/runbook.md#function-errors'),
        warning,
      ),
    );
    await cloudwatch.send(
      metricAlarm(
        'SloAvailabilityFastLong',
        alarmDescription('critical', 'Window.', 'docs/runbook.md#slo-availability'),
      ),
    );
    // In AWS the alert is a composite alarm; moto has no composite alarms, so a metric alarm stands in.
    await cloudwatch.send(
      metricAlarm(
        'SloAvailabilityFast',
        alarmDescription('critical', 'Burning.', 'docs/runbook.md#slo-availability'),
        critical,
      ),
    );
    // Another stack's alarm is not listed.
    await cloudwatch.send(queueDepthAlarm({ name: 'OtherStack-DlqWebhooks' }));
  });

  afterAll(() => cloudwatch.destroy());

  it('lists every alarm of the stack with its severity, state and runbook section', async () => {
    const io = capture();
    expect(await run(['alarms', 'list', '--prefix', 'AdsEngineer-itest'], io)).toBe(0);
    const [header, ...lines] = io.stdout;
    expect(header).toMatch(/^ALARM\s+SEVERITY\s+STATE\s+RUNBOOK$/);
    expect(lines).toHaveLength(4);
    expect(lines.find((l) => l.startsWith(`${PREFIX}DlqWebhooks `))).toMatch(
      /critical\s+(OK|INSUFFICIENT_DATA)\s+#dead-letters$/,
    );
    expect(lines.find((l) => l.startsWith(`${PREFIX}ErrorsApi `))).toMatch(
      /warning\s+\S+\s+#function-errors$/,
    );
    expect(lines.find((l) => l.startsWith(`${PREFIX}SloAvailabilityFast `))).toMatch(
      /critical\s+\S+\s+#slo-availability$/,
    );
    expect(lines.find((l) => l.startsWith(`${PREFIX}SloAvailabilityFastLong `))).toMatch(
      /notifies through its composite/,
    );
  });

  it('sets an alarm to ALARM, holds it, then back to OK, with progress', async () => {
    const seen: (string | undefined)[] = [];
    const progress: string[] = [];
    await testAlarm(`${PREFIX}DlqWebhooks`, {
      holdSeconds: 20,
      progress: (line) => progress.push(line),
      cloudwatch,
      // Instead of waiting: look at the alarm while it is held.
      sleep: async () => {
        seen.push(await state(cloudwatch, `${PREFIX}DlqWebhooks`));
      },
    });
    expect(seen).toEqual(['ALARM', 'ALARM']);
    expect(await state(cloudwatch, `${PREFIX}DlqWebhooks`)).toBe('OK');
    expect(progress[0]).toMatch(/to ALARM/);
    expect(progress.at(-1)).toMatch(/back to OK/);
  });

  it('runs from the command line by the short name of the alert', async () => {
    const io = capture();
    expect(
      await run(
        ['alarms', 'test', '--alarm', 'SloAvailabilityFast', '--prefix', 'AdsEngineer-itest', '--hold', '0'],
        io,
      ),
    ).toBe(0);
    expect(io.stdout.join('\n')).toContain(`Test of ${PREFIX}SloAvailabilityFast done`);
    expect(await state(cloudwatch, `${PREFIX}SloAvailabilityFast`)).toBe('OK');
  });

  it('refuses an alarm that does not notify, an unknown one, and a missing name, in clear sentences', async () => {
    const window = capture();
    expect(
      await run(
        ['alarms', 'test', '--alarm', 'SloAvailabilityFastLong', '--prefix', 'AdsEngineer-itest'],
        window,
      ),
    ).toBe(1);
    expect(window.stderr.join('\n')).toMatch(/does not notify on both ALARM and OK/);
    const unknown = capture();
    expect(await run(['alarms', 'test', '--alarm', 'Nope', '--prefix', 'AdsEngineer-itest'], unknown)).toBe(
      1,
    );
    expect(unknown.stderr.join('\n')).toMatch(/There is no alarm named AdsEngineer-itest-Nope/);
    const usage = capture();
    expect(await run(['alarms', 'test'], usage)).toBe(2);
    expect(usage.stderr.join('\n')).toMatch(/alarms test needs --alarm/);
  });
});
