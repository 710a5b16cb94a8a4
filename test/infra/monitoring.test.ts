import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import {
  CIRCUIT_ALARMS,
  CIRCUIT_PROVIDERS,
  METRIC_ALARMS,
  METRIC_NAMESPACE,
} from '../../lib/definitions/metrics';
import { FUNCTIONS, QUEUES } from '../../lib/definitions/resources';
import { STAGE_SETTINGS, type Stage } from '../../lib/definitions/stages';
import type { AdsEngineerStack } from '../../lib/stack';
import { buildStack, logicalId, resources } from './build';

const PAGER_DUTY_URL = 'https://events.pagerduty.com/integration/0123456789abcdef/enqueue';
const WARNING_URL = 'https://hooks.example.com/adsengineer-warnings';
const built = new Map<Stage, { stack: AdsEngineerStack; template: Template }>();

beforeAll(() => {
  // dev reads the PagerDuty URL from SSM; prod gets both URLs as props, as from -c context.
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
  const prod = buildStack('prod', { pagerDutyUrl: PAGER_DUTY_URL, warningWebhookUrl: WARNING_URL });
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

describe.each(['dev', 'prod'] as const)('monitoring in %s', (stage) => {
  const settings = STAGE_SETTINGS[stage];

  test('both topics are encrypted with the CMK and refuse plain HTTP', () => {
    const { stack, template } = get(stage);
    template.resourceCountIs('AWS::SNS::Topic', 2);
    template.allResourcesProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [logicalId(stack, stack.keys.key), 'Arn'] },
    });
    template.resourceCountIs('AWS::SNS::TopicPolicy', 2);
    template.allResourcesProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test.each(QUEUES.map((q) => [q.id] as const))('a message in the %s DLQ pages on-call', (id) => {
    const { stack, template } = get(stage);
    const { critical } = topicRefs(stage);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalId(stack, stack.queues.queues.get(id).dlq), 'QueueName'] },
        },
      ],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [critical],
      OKActions: [critical],
    });
  });

  test.each(FUNCTIONS.map((f) => [f.id] as const))('errors of the %s function page on-call', (id) => {
    const { stack, template } = get(stage);
    const { critical } = topicRefs(stage);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [
        { Name: 'FunctionName', Value: { Ref: logicalId(stack, stack.functions.functions.get(id).fn) } },
      ],
      Statistic: 'Sum',
      Period: 300,
      Threshold: settings.lambdaErrorThreshold,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [critical],
      OKActions: [critical],
    });
  });

  test('the API 5xx rate pages on-call above the stage threshold', () => {
    const { template } = get(stage);
    const { critical } = topicRefs(stage);
    const apiMetric = (name: string) =>
      Match.objectLike({
        MetricStat: Match.objectLike({
          Metric: Match.objectLike({
            Namespace: 'AWS/ApiGateway',
            MetricName: name,
            Dimensions: Match.arrayWith([{ Name: 'ApiName', Value: `adsengineer-${stage}` }]),
          }),
          Stat: 'Sum',
        }),
        ReturnData: false,
      });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: Match.stringLikeRegexp('/'), ReturnData: true }),
        apiMetric('5XXError'),
        apiMetric('Count'),
      ]),
      Threshold: settings.api5xxRateThreshold,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [critical],
      OKActions: [critical],
    });
  });

  test('every baseline, critical metric and backup schedule alarm notifies the critical topic on ALARM and on OK', () => {
    const { template } = get(stage);
    const { critical } = topicRefs(stage);
    const criticalMetrics = METRIC_ALARMS.filter((a) => a.severity === 'critical').length;
    const criticalCircuits =
      CIRCUIT_PROVIDERS.length * CIRCUIT_ALARMS.filter((a) => a.severity === 'critical').length;
    // DLQs, function errors, API 5xx rate, critical metrics, circuits open 30 minutes, and the
    // daily backup rule's delivery.
    const baseline = QUEUES.length + FUNCTIONS.length + 1 + criticalMetrics + criticalCircuits + 1;
    const alarms = Object.values(resources(template, 'AWS::CloudWatch::Alarm'));
    const toCritical = alarms.filter(
      (a) => JSON.stringify(a.Properties?.AlarmActions) === JSON.stringify([critical]),
    );
    expect(toCritical).toHaveLength(baseline);
    for (const alarm of toCritical) expect(alarm.Properties?.OKActions).toEqual([critical]);
  });
});

test('dev pages the PagerDuty URL stored in SSM, resolved at deploy time', () => {
  const { template } = get('dev');
  const parameters = template.toJSON().Parameters as Record<string, { Type: string; Default?: string }>;
  const [name] =
    Object.entries(parameters).find(([, p]) => p.Default === '/adsengineer/dev/pagerduty-url') ?? [];
  expect(name).toBeDefined();
  expect(parameters[name ?? '']?.Type).toBe('AWS::SSM::Parameter::Value<String>');
  template.resourceCountIs('AWS::SNS::Subscription', 1);
  template.hasResourceProperties('AWS::SNS::Subscription', {
    Protocol: 'https',
    Endpoint: { Ref: name },
    TopicArn: topicRefs('dev').critical,
  });
});

test('prod pages the PagerDuty URL from context and informs the warning webhook', () => {
  const { template } = get('prod');
  template.resourceCountIs('AWS::SNS::Subscription', 2);
  template.hasResourceProperties('AWS::SNS::Subscription', {
    Protocol: 'https',
    Endpoint: PAGER_DUTY_URL,
    TopicArn: topicRefs('prod').critical,
  });
  template.hasResourceProperties('AWS::SNS::Subscription', {
    Protocol: 'https',
    Endpoint: WARNING_URL,
    TopicArn: topicRefs('prod').warning,
  });
});

test('alarms added later through the helper go to the topic of their severity', () => {
  const { warning } = topicRefs('dev');
  get('dev').template.hasResourceProperties('AWS::CloudWatch::Alarm', {
    AlarmName: 'AdsEngineer-dev-ExtraWarning',
    MetricName: 'Probe',
    AlarmActions: [warning],
    OKActions: [warning],
  });
});

describe('application metric alarms', () => {
  test.each(METRIC_ALARMS.map((a) => [a.metric, a] as const))(
    '%s alarms on the metric the functions emit, to its severity topic',
    (_name, definition) => {
      const { template } = get('prod');
      const { critical, warning } = topicRefs('prod');
      const topic = definition.severity === 'critical' ? critical : warning;
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: METRIC_NAMESPACE,
        MetricName: definition.metric,
        Dimensions: [
          { Name: 'service', Value: 'adsengineer' },
          { Name: 'stage', Value: 'prod' },
        ],
        Statistic: 'Sum',
        Threshold: definition.threshold,
        AlarmActions: [topic],
        OKActions: [topic],
      });
    },
  );
});

describe('circuit breaker alarms', () => {
  test.each(CIRCUIT_PROVIDERS.flatMap((p) => CIRCUIT_ALARMS.map((a) => [p, a.openSeconds, a] as const)))(
    'the %s circuit open %i s notifies its severity topic, on the maximum open time per provider',
    (provider, _seconds, definition) => {
      const { template } = get('prod');
      const { critical, warning } = topicRefs('prod');
      const topic = definition.severity === 'critical' ? critical : warning;
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: METRIC_NAMESPACE,
        MetricName: 'CircuitOpenSeconds',
        Dimensions: [
          { Name: 'provider', Value: provider },
          { Name: 'service', Value: 'adsengineer' },
          { Name: 'stage', Value: 'prod' },
        ],
        Statistic: 'Maximum',
        Period: 300,
        Threshold: definition.openSeconds,
        TreatMissingData: 'notBreaching',
        AlarmActions: [topic],
        OKActions: [topic],
      });
    },
  );

  test('5 minutes warns and 30 minutes pages', () => {
    expect(CIRCUIT_ALARMS.map((a) => [a.openSeconds, a.severity])).toEqual([
      [300, 'warning'],
      [1800, 'critical'],
    ]);
  });
});
