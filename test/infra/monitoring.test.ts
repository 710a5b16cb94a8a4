import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { CIRCUIT_ALARMS, CIRCUIT_PROVIDERS, METRIC_ALARMS, METRIC_NAMESPACE } from '../../contract/metrics';
import {
  BURN_RATE_WINDOWS,
  burnRateThreshold,
  parseAlarmDescription,
  QUEUE_AGE_ALARMS,
  SLOS,
} from '../../contract/monitoring';
import { FUNCTIONS, QUEUES, TABLES } from '../../contract/resources';
import type { Stage } from '../../contract/stages';
import type { AdsEngineerStack } from '../../infra/stack';
import { buildStack, type CfnResource, type Json, logicalId, resources } from './build';

const PAGER_DUTY_URL = 'https://events.pagerduty.com/integration/0123456789abcdef/enqueue';
const WARNING_URL = 'https://hooks.example.com/adsengineer-warnings';
const built = new Map<Stage, { stack: AdsEngineerStack; template: Template }>();

beforeAll(() => {
  // dev reads the PagerDuty URL from SSM and has no Slack; prod gets everything from context.
  const dev = buildStack('dev');
  // A later construct adds its own alarm through the helper, before synthesis.
  dev.stack.monitoring.alarm(
    'ExtraWarning',
    {
      metric: new cloudwatch.Metric({
        namespace: 'AdsEngineer',
        metricName: 'Probe',
        period: Duration.minutes(5),
      }),
      threshold: 1,
      evaluationPeriods: 1,
    },
    'warning',
  );
  built.set('dev', { stack: dev.stack, template: Template.fromStack(dev.stack) });
  const prod = buildStack('prod', {
    pagerDutyUrl: PAGER_DUTY_URL,
    warningWebhookUrl: WARNING_URL,
    slackWorkspaceId: 'T0123ABCD',
    slackChannelId: 'C0456EFGH',
    runbookBaseUrl: 'https://github.com/example/adsengineer/blob/main/docs/runbook.md',
  });
  built.set('prod', { stack: prod.stack, template: Template.fromStack(prod.stack) });
});

function get(stage: Stage) {
  const found = built.get(stage);
  if (!found) throw new Error(`stack ${stage} was not built`);
  return found;
}

const topicRefs = (stage: Stage) => {
  const { stack } = get(stage);
  return {
    critical: { Ref: logicalId(stack, stack.monitoring.criticalTopic) },
    warning: { Ref: logicalId(stack, stack.monitoring.warningTopic) },
  };
};

const alarmsOf = (template: Template) => ({
  ...resources(template, 'AWS::CloudWatch::Alarm'),
  ...resources(template, 'AWS::CloudWatch::CompositeAlarm'),
});

const nameOf = (alarm: CfnResource) => String(alarm.Properties?.AlarmName ?? '');

/** Window alarms of a burn-rate alert: they feed a composite and notify nobody themselves. */
const isWindow = (alarm: CfnResource) =>
  /-Slo(Availability|Latency)(Fast|Medium|Slow)(Long|Short)$/.test(nameOf(alarm));

/** Every dimension name in a value, at any depth. */
function dimensionNames(value: Json | undefined, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) dimensionNames(item, into);
  else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'Dimensions' && Array.isArray(inner)) {
        for (const d of inner) if (d && typeof d === 'object' && 'Name' in d) into.add(String(d.Name));
      } else dimensionNames(inner, into);
    }
  }
  return into;
}

const ALLOWED_DIMENSIONS = [
  'ApiName',
  'CanaryName',
  'FunctionName',
  'QueueName',
  'RuleName',
  'Stage',
  'TableName',
  'platform',
  'provider',
  'route_group',
  'sender',
  'service',
  'stage',
  'status_class',
];

describe.each(['dev', 'prod'] as const)('monitoring in %s', (stage) => {
  test('both topics are encrypted with the CMK and refuse plain HTTP', () => {
    const { stack, template } = get(stage);
    template.resourceCountIs('AWS::SNS::Topic', 2);
    template.allResourcesProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [logicalId(stack, stack.keys.key), 'Arn'] },
    });
    template.allResourcesProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test('every notifying alarm sends ALARM and OK to the topic its severity names, and links its runbook', () => {
    const { template } = get(stage);
    const topics = topicRefs(stage);
    const notifying = Object.values(alarmsOf(template)).filter((a) => !isWindow(a));
    expect(notifying.length).toBeGreaterThan(40);
    for (const alarm of notifying) {
      const description = String(alarm.Properties?.AlarmDescription ?? '');
      const { severity, runbook } = parseAlarmDescription(description);
      const topic = severity ? topics[severity] : undefined;
      expect({ alarm: nameOf(alarm), severity, runbook: Boolean(runbook) }).toEqual({
        alarm: nameOf(alarm),
        severity: expect.stringMatching(/^(critical|warning)$/),
        runbook: true,
      });
      expect(alarm.Properties?.AlarmActions).toEqual([topic]);
      expect(alarm.Properties?.OKActions).toEqual([topic]);
    }
  });

  test('every metric alarm treats missing data deliberately', () => {
    const { template } = get(stage);
    for (const alarm of Object.values(resources(template, 'AWS::CloudWatch::Alarm'))) {
      if (nameOf(alarm).endsWith('ExtraWarning')) continue;
      expect({ alarm: nameOf(alarm), treat: alarm.Properties?.TreatMissingData }).toEqual({
        alarm: nameOf(alarm),
        treat: expect.stringMatching(/^(notBreaching|breaching)$/),
      });
    }
  });

  test.each(SLOS.flatMap((slo) => BURN_RATE_WINDOWS.map((w) => [`${slo.id} ${w.name}`, slo, w] as const)))(
    'the %s burn-rate alert: long and short windows at the documented factor, both required',
    (_, slo, w) => {
      const { template } = get(stage);
      const topics = topicRefs(stage);
      const all = alarmsOf(template);
      const id = `Slo${slo.id}${w.name}`;
      const find = (suffix: string) =>
        Object.entries(all).find(([, a]) => nameOf(a).endsWith(`-${id}${suffix}`));
      const [longId, long] = find('Long') ?? [];
      const [shortId, short] = find('Short') ?? [];
      for (const [alarm, minutes] of [
        [long, w.longMinutes],
        [short, w.shortMinutes],
      ] as const) {
        expect(alarm?.Properties?.Threshold).toBeCloseTo(burnRateThreshold(slo.objective, w.factor), 10);
        expect(alarm?.Properties?.ComparisonOperator).toBe('GreaterThanThreshold');
        expect(alarm?.Properties?.AlarmActions).toBeUndefined();
        const periods = JSON.stringify(alarm?.Properties?.Metrics)
          .match(/"Period":(\d+)/g)
          ?.map((p) => Number(p.split(':')[1]));
        expect(new Set(periods)).toEqual(new Set([minutes * 60]));
      }
      const composite = Object.values(resources(template, 'AWS::CloudWatch::CompositeAlarm')).find((a) =>
        String(a.Properties?.AlarmName).endsWith(`-${id}`),
      );
      const rule = JSON.stringify(composite?.Properties?.AlarmRule);
      expect(rule).toContain(`ALARM(\\"`);
      expect(rule).toContain(longId);
      expect(rule).toContain(shortId);
      expect(rule).toContain('AND');
      expect(composite?.Properties?.AlarmActions).toEqual([topics[w.severity]]);
      expect(composite?.Properties?.OKActions).toEqual([topics[w.severity]]);
    },
  );

  test('the availability windows divide 5xx by requests at the gateway; latency uses the percentile rank of 500 ms', () => {
    const { template } = get(stage);
    const all = Object.values(resources(template, 'AWS::CloudWatch::Alarm'));
    const availability = all.find((a) => nameOf(a).endsWith('-SloAvailabilityFastShort'));
    expect(JSON.stringify(availability?.Properties?.Metrics)).toMatch(/5XXError.*Count|Count.*5XXError/);
    const latency = all.find((a) => nameOf(a).endsWith('-SloLatencyFastShort'));
    expect(JSON.stringify(latency?.Properties?.Metrics)).toContain('"Stat":"PR(0:500)"');
  });

  test.each(QUEUES.map((q) => [q.id] as const))(
    'the %s queue pages on dead letters and on its oldest message age',
    (id) => {
      const { stack, template } = get(stage);
      const topics = topicRefs(stage);
      const pair = stack.queues.queues.get(id);
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [
          { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack, pair.dlq), 'QueueName'] } },
        ],
        Threshold: 1,
        AlarmActions: [topics.critical],
        OKActions: [topics.critical],
      });
      const age = QUEUE_AGE_ALARMS[id];
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [
          { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack, pair.queue), 'QueueName'] } },
        ],
        Threshold: age.maxAgeSeconds,
        AlarmActions: [topics[age.severity]],
        OKActions: [topics[age.severity]],
      });
    },
  );

  test.each(FUNCTIONS.map((f) => [f.id] as const))(
    'the %s function warns on its error rate and throttles',
    (id) => {
      const { stack, template } = get(stage);
      const { warning } = topicRefs(stage);
      const fnRef = { Ref: logicalId(stack, stack.functions.functions.get(id).fn) };
      const errorsOf = Match.objectLike({
        MetricStat: Match.objectLike({
          Metric: Match.objectLike({
            MetricName: 'Errors',
            Dimensions: [{ Name: 'FunctionName', Value: fnRef }],
          }),
        }),
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Metrics: Match.arrayWith([Match.objectLike({ Expression: 'errors / invocations' }), errorsOf]),
        EvaluationPeriods: 3,
        DatapointsToAlarm: 2,
        AlarmActions: [warning],
        OKActions: [warning],
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'Throttles',
        Dimensions: [{ Name: 'FunctionName', Value: fnRef }],
        AlarmActions: [warning],
      });
    },
  );

  test.each(TABLES.map((t) => [t.id] as const))('DynamoDB throttling of the %s table warns', (id) => {
    const { stack, template } = get(stage);
    const tableRef = { Ref: logicalId(stack, stack.data.tables.get(id)) };
    const { warning } = topicRefs(stage);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({
              MetricName: 'WriteThrottleEvents',
              Dimensions: [{ Name: 'TableName', Value: tableRef }],
            }),
          }),
        }),
      ]),
      AlarmActions: [warning],
    });
  });

  test.each(METRIC_ALARMS.map((a) => [a.metric, a] as const))(
    '%s alarms on the metric the functions emit, to its severity topic',
    (_name, definition) => {
      const { template } = get(stage);
      const topic = topicRefs(stage)[definition.severity];
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: METRIC_NAMESPACE,
        MetricName: definition.metric,
        Dimensions: [
          { Name: 'service', Value: 'adsengineer' },
          { Name: 'stage', Value: stage },
        ],
        Statistic: 'Sum',
        Threshold: definition.threshold,
        AlarmActions: [topic],
        OKActions: [topic],
      });
    },
  );

  test('a circuit open 30 minutes pages, per provider, on the maximum open time; nothing warns before', () => {
    const { template } = get(stage);
    const topics = topicRefs(stage);
    const pascalOf = (p: string) => p.replace(/(^|_)([a-z])/g, (_m, _u, c: string) => c.toUpperCase());
    for (const provider of CIRCUIT_PROVIDERS) {
      for (const definition of CIRCUIT_ALARMS) {
        const topic = topics[definition.severity];
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          AlarmName: `AdsEngineer-${stage}-Circuit${pascalOf(provider)}Open${definition.openSeconds / 60}m`,
          MetricName: 'CircuitOpenSeconds',
          Dimensions: [
            { Name: 'provider', Value: provider },
            { Name: 'service', Value: 'adsengineer' },
            { Name: 'stage', Value: stage },
          ],
          Statistic: 'Maximum',
          Threshold: definition.openSeconds,
          TreatMissingData: 'notBreaching',
          AlarmActions: [topic],
          OKActions: [topic],
        });
      }
    }
    const circuitAlarms = Object.values(resources(template, 'AWS::CloudWatch::Alarm')).filter(
      (a) => a.Properties?.MetricName === 'CircuitOpenSeconds',
    );
    expect(circuitAlarms).toHaveLength(CIRCUIT_PROVIDERS.length * CIRCUIT_ALARMS.length);
    expect(CIRCUIT_ALARMS.map((a) => [a.severity, a.openSeconds])).toEqual([['critical', 1800]]);
  });

  test('signature and token failure spikes warn', () => {
    const { template } = get(stage);
    const { warning } = topicRefs(stage);
    for (const name of ['SecuritySignatureFailures', 'SecurityTokenFailures']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `AdsEngineer-${stage}-${name}`,
        AlarmActions: [warning],
        OKActions: [warning],
      });
    }
  });

  test('the uptime canary runs every minute in prod, every 5 minutes elsewhere, and its failure pages', () => {
    const { stack, template } = get(stage);
    const { critical } = topicRefs(stage);
    template.hasResourceProperties('AWS::Synthetics::Canary', {
      Name: `ae-${stage}-api`,
      RuntimeVersion: 'syn-nodejs-puppeteer-15.0',
      Schedule: { Expression: stage === 'prod' ? 'rate(1 minute)' : 'rate(5 minutes)' },
      Code: Match.objectLike({ Handler: 'api-canary.handler' }),
      RunConfig: Match.objectLike({
        EnvironmentVariables: {
          API_BASE_URL: Match.anyValue(),
          CANARY_API_KEY_SECRET_ARN: { Ref: logicalId(stack, stack.monitoring.canary.apiKeySecret) },
        },
      }),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'CloudWatchSynthetics',
      MetricName: 'SuccessPercent',
      Dimensions: [{ Name: 'CanaryName', Value: Match.anyValue() }],
      Period: stage === 'prod' ? 60 : 300,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      TreatMissingData: 'breaching',
      AlarmActions: [critical],
      OKActions: [critical],
    });
  });

  test('the dashboard has widgets for every function, queue, table and objective', () => {
    const { stack, template } = get(stage);
    const dashboards = Object.values(resources(template, 'AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]?.Properties?.DashboardBody);
    for (const f of FUNCTIONS)
      expect(body).toContain(`{"Ref":"${logicalId(stack, stack.functions.functions.get(f.id).fn)}"}`);
    for (const q of QUEUES) {
      const pair = stack.queues.queues.get(q.id);
      expect(body).toContain(`"${logicalId(stack, pair.queue)}","QueueName"`);
      expect(body).toContain(`"${logicalId(stack, pair.dlq)}","QueueName"`);
    }
    for (const t of TABLES)
      expect(body).toContain(`{"Ref":"${logicalId(stack, stack.data.tables.get(t.id))}"}`);
    for (const needle of [
      '5XXError',
      'Latency',
      'Error budget left',
      'SuccessPercent',
      'ApiRequests',
      'LeadsStored',
    ]) {
      expect(body).toContain(needle);
    }
  });

  test('no alarm or dashboard metric has a dimension other than the low-cardinality ones', () => {
    const { template } = get(stage);
    const names = dimensionNames(template.toJSON().Resources as Json);
    for (const name of names) expect(ALLOWED_DIMENSIONS).toContain(name);
    const dashboard = JSON.stringify(Object.values(resources(template, 'AWS::CloudWatch::Dashboard')));
    expect(dashboard).not.toMatch(/tenant_id|email|user_id|subject/i);
  });
});

test('dev pages the PagerDuty URL stored in SSM, resolved at deploy time, and has no Slack channel', () => {
  const { template } = get('dev');
  const parameters = template.toJSON().Parameters as Record<string, { Type: string; Default?: string }>;
  const [name] =
    Object.entries(parameters).find(([, p]) => p.Default === '/adsengineer/dev/pagerduty-url') ?? [];
  expect(name).toBeDefined();
  template.resourceCountIs('AWS::SNS::Subscription', 1);
  template.hasResourceProperties('AWS::SNS::Subscription', {
    Protocol: 'https',
    Endpoint: { Ref: name },
    TopicArn: topicRefs('dev').critical,
  });
  template.resourceCountIs('AWS::Chatbot::SlackChannelConfiguration', 0);
});

test('prod pages PagerDuty from context, informs the warning webhook, and posts both topics to Slack', () => {
  const { template } = get('prod');
  const { critical, warning } = topicRefs('prod');
  template.resourceCountIs('AWS::SNS::Subscription', 2);
  template.hasResourceProperties('AWS::SNS::Subscription', { Endpoint: PAGER_DUTY_URL, TopicArn: critical });
  template.hasResourceProperties('AWS::SNS::Subscription', { Endpoint: WARNING_URL, TopicArn: warning });
  template.hasResourceProperties('AWS::Chatbot::SlackChannelConfiguration', {
    SlackWorkspaceId: 'T0123ABCD',
    SlackChannelId: 'C0456EFGH',
    SnsTopicArns: [critical, warning],
    GuardrailPolicies: [Match.anyValue()],
  });
  template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
    PolicyDocument: { Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }] },
  });
  const described = Object.values(alarmsOf(template)).map((a) => String(a.Properties?.AlarmDescription));
  for (const d of described)
    expect(d).toMatch(
      /Runbook: https:\/\/github\.com\/example\/adsengineer\/blob\/main\/docs\/runbook\.md#[a-z0-9-]+$/,
    );
});

test('Slack needs both ids', () => {
  expect(() => buildStack('dev', { slackWorkspaceId: 'T0123ABCD' })).toThrow(
    /both slackWorkspaceId and slackChannelId/,
  );
});

test('alarms added later through the helper go to the topic of their severity, with a runbook anchor', () => {
  const { warning } = topicRefs('dev');
  get('dev').template.hasResourceProperties('AWS::CloudWatch::Alarm', {
    AlarmName: 'AdsEngineer-dev-ExtraWarning',
    AlarmDescription: '[warning] ExtraWarning Runbook: docs/runbook.md#extra-warning',
    MetricName: 'Probe',
    AlarmActions: [warning],
    OKActions: [warning],
  });
});
