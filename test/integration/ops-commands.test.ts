/**
 * Operator commands run in-process as `npm run ops -- ...` runs them: the Grafana dashboard an
 * operator imports, alarm names and prefixes, token subjects, dead-letter redrive limits.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { AwsQueryProtocol } from '@aws-sdk/core/protocols';
import { clearKeyringCache, loadKeyring } from '../../functions/shared/platform/auth/keyring';
import { verifyToken } from '../../functions/shared/platform/auth/tokens';
import { run } from '../../ops/cli';
import { queueDepthAlarm } from '../support/alarms';
import { emulatorUrl, freshResources } from '../support/emulator';
import { capture } from '../support/operator';

const committedDashboard = () =>
  readFileSync(path.resolve(__dirname, '..', '..', 'docs', 'grafana', 'adsengineer.json'), 'utf8');

interface GrafanaTarget {
  id?: string;
  refId: string;
  expression?: string;
  dimensions?: Record<string, string>;
  period?: string;
}
interface GrafanaPanel {
  id: number;
  type: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: GrafanaTarget[];
  timeFrom?: string;
  fieldConfig?: { defaults: { unit: string; min?: number; max?: number } };
}

describe('dashboards grafana', () => {
  it('prints the committed dashboard, and writes it with --out', async () => {
    const printed = capture();
    expect(await run(['dashboards', 'grafana'], printed)).toBe(0);
    expect(`${printed.stdout.join('\n')}\n`).toBe(committedDashboard());
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'adsengineer-grafana-')), 'dashboard.json');
    const written = capture();
    expect(await run(['dashboards', 'grafana', '--out', out], written)).toBe(0);
    expect(written.stdout).toEqual([`Wrote the Grafana dashboard to ${out}.`]);
    expect(readFileSync(out, 'utf8')).toBe(committedDashboard());
  });

  it('is a dashboard Grafana can import: panels on the 24-column grid, every variable a query uses defined', async () => {
    const io = capture();
    await run(['dashboards', 'grafana'], io);
    const dashboard = JSON.parse(io.stdout.join('\n')) as {
      uid: string;
      panels: GrafanaPanel[];
      templating: { list: Array<{ name: string; regex?: string }> };
    };
    expect(dashboard.uid).toBe('adsengineer-on-call');
    const defined = new Set(dashboard.templating.list.map((v) => v.name));
    const ids = new Set<number>();
    const panels = dashboard.panels.filter((p) => p.type !== 'row');
    expect(panels.length).toBeGreaterThan(10);
    for (const panel of dashboard.panels) {
      expect(ids.has(panel.id)).toBe(false);
      ids.add(panel.id);
      expect(panel.gridPos.x + panel.gridPos.w).toBeLessThanOrEqual(24);
    }
    for (const panel of panels) {
      expect(['stat', 'timeseries']).toContain(panel.type);
      const unit = panel.fieldConfig?.defaults.unit;
      expect(['percent', 'ms', 's', 'short']).toContain(unit);
      if (unit === 'percent') expect(panel.fieldConfig?.defaults).toMatchObject({ min: 0, max: 100 });
      const refIds = (panel.targets ?? []).map((t) => t.refId);
      expect(new Set(refIds).size).toBe(refIds.length);
      for (const target of panel.targets ?? []) {
        for (const used of JSON.stringify(target).matchAll(/\$(\w+)/g)) {
          // Expressions refer to other queries by id; dimensions and regions to variables.
          if (target.expression?.includes(`$${used[1]}`)) continue;
          expect(defined).toContain(used[1]);
        }
        // A panel over days reads one point per day range; the others 5-minute points.
        if (target.period && panel.timeFrom) expect(Number(target.period) % 86_400).toBe(0);
      }
    }
    // The stat panels over several days exist (SLO), and some panels plot the API and the canary.
    expect(panels.some((p) => p.type === 'stat' && p.timeFrom)).toBe(true);
    const dimensions = panels.flatMap((p) => (p.targets ?? []).map((t) => t.dimensions ?? {}));
    expect(dimensions.some((d) => d.ApiName === 'adsengineer-$stage')).toBe(true);
    expect(dimensions.some((d) => 'CanaryName' in d)).toBe(true);
    expect(dimensions.some((d) => d.QueueName === '$dlq_webhooks')).toBe(true);
    expect(dimensions.some((d) => d.TableName === '$table_leads')).toBe(true);
    expect(dimensions.some((d) => d.FunctionName === '$fn_api')).toBe(true);
  });
});

describe('operator command options', () => {
  let env: Record<string, string>;
  beforeAll(async () => {
    env = await freshResources();
    delete process.env.JWT_SECRET;
    clearKeyringCache();
  });

  it('issues a token for a named subject', async () => {
    const io = capture();
    expect(
      await run(['token', 'issue', '--tenant', 't-ops', '--role', 'admin', '--subject', 'ci:deploy'], io),
    ).toBe(0);
    expect(await verifyToken(io.stdout[0] as string, await loadKeyring())).toEqual({
      tenantId: 't-ops',
      role: 'admin',
      subject: 'ci:deploy',
      method: 'jwt',
    });
  });

  it('says so when no alarm has the prefix, from --prefix or ALARM_PREFIX, with or without its dash', async () => {
    const flag = capture();
    expect(await run(['alarms', 'list', '--prefix', 'AdsEngineer-nowhere-'], flag)).toBe(0);
    expect(flag.stdout).toEqual(['No alarms named AdsEngineer-nowhere-*.']);
    const saved = process.env.ALARM_PREFIX;
    process.env.ALARM_PREFIX = 'AdsEngineer-elsewhere';
    try {
      const fromEnv = capture();
      expect(await run(['alarms', 'list'], fromEnv)).toBe(0);
      expect(fromEnv.stdout).toEqual(['No alarms named AdsEngineer-elsewhere-*.']);
      const full = capture();
      // A full alarm name is not prefixed twice.
      expect(
        await run(['alarms', 'test', '--alarm', 'AdsEngineer-elsewhere-DlqWebhooks', '--hold', '0'], full),
      ).toBe(1);
      expect(full.stderr.at(-1)).toMatch(/no alarm named AdsEngineer-elsewhere-DlqWebhooks\b/i);
    } finally {
      if (saved === undefined) delete process.env.ALARM_PREFIX;
      else process.env.ALARM_PREFIX = saved;
    }
    for (const hold of ['-1', 'soon']) {
      const io = capture();
      expect(await run(['alarms', 'test', '--alarm', 'DlqWebhooks', `--hold=${hold}`], io)).toBe(2);
      expect(io.stderr[0]).toMatch(/^--hold must be a number of seconds/);
    }
  });

  it('lists an alarm made by hand, without severity or runbook, as unknown, and can still test it', async () => {
    const config = { endpoint: emulatorUrl(), region: 'us-east-1' };
    const sns = new SNSClient(config);
    const topic = (await sns.send(new CreateTopicCommand({ Name: 'ops-hand' }))).TopicArn as string;
    sns.destroy();
    const cloudwatch = new CloudWatchClient({ ...config, protocol: AwsQueryProtocol });
    const alarm = (name: string, actions: boolean) =>
      queueDepthAlarm({
        name: `AdsEngineer-hand-${name}`,
        description: 'Made in the console during an incident.',
        ...(actions ? { topic } : {}),
      });
    await cloudwatch.send(alarm('Paging', true));
    await cloudwatch.send(alarm('Silent', false));
    cloudwatch.destroy();
    const io = capture();
    expect(await run(['alarms', 'list', '--prefix', 'AdsEngineer-hand-'], io)).toBe(0);
    expect(io.stdout.slice(1).map((l) => l.split(/\s{2,}/))).toEqual([
      ['AdsEngineer-hand-Paging', 'unknown', expect.stringMatching(/^(OK|INSUFFICIENT_DATA)$/), '-'],
      [
        'AdsEngineer-hand-Silent',
        'unknown (window, notifies through its composite)',
        expect.stringMatching(/^(OK|INSUFFICIENT_DATA)$/),
        '-',
      ],
    ]);
    const tested = capture();
    expect(
      await run(
        ['alarms', 'test', '--alarm', 'Paging', '--prefix', 'AdsEngineer-hand', '--hold', '0'],
        tested,
      ),
    ).toBe(0);
    expect(tested.stdout[0]).toMatch(/^Test of AdsEngineer-hand-Paging done/);
  });

  it('redrives at most --max dead letters, leaving the rest', async () => {
    const sqs = new SQSClient({ endpoint: emulatorUrl(), region: 'us-east-1' });
    for (let i = 0; i < 3; i++)
      await sqs.send(
        new SendMessageCommand({ QueueUrl: env.CONVERSIONS_DLQ_URL, MessageBody: `{"n":${i}}` }),
      );
    const io = capture();
    expect(await run(['dlq', 'redrive', '--queue', 'conversions', '--max', '2'], io)).toBe(0);
    expect(io.stdout).toEqual(['Redrove 2 message(s) to conversions.']);
    const left = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: env.CONVERSIONS_DLQ_URL, MaxNumberOfMessages: 10 }),
    );
    expect(left.Messages ?? []).toHaveLength(1);
    sqs.destroy();
  });
});
