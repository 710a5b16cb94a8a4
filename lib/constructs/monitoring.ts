import { Duration, Stack } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import {
  CIRCUIT_ALARMS,
  CIRCUIT_PROVIDERS,
  METRIC_ALARMS,
  METRIC_NAMESPACE,
  METRICS,
  SERVICE_NAME,
} from '../definitions/metrics';
import type { StageSettings } from '../definitions/stages';
import type { Functions } from './functions';
import type { Queues } from './queues';
import { pascal } from './support';

export interface MonitoringProps {
  readonly settings: StageSettings;
  readonly key: kms.IKey;
  readonly functions: Functions;
  readonly queues: Queues;
  readonly apiStage: apigateway.Stage;
  /** PagerDuty CloudWatch integration URL; else read from SSM `/adsengineer/<stage>/pagerduty-url`. */
  readonly pagerDutyUrl?: string;
  /** Optional HTTPS endpoint for warnings (e.g. a chat webhook bridge). */
  readonly warningWebhookUrl?: string;
}

export type Severity = 'critical' | 'warning';

export function pagerDutyParameterName(stage: string): string {
  return `/adsengineer/${stage}/pagerduty-url`;
}

/**
 * Alarm topics (critical pages on-call, warning informs) and the baseline alarms: a message in any
 * dead-letter queue, Lambda errors per function, and the API's 5xx rate. Other constructs add
 * their own alarms with `addAlarm(alarm, severity)`.
 */
export class Monitoring extends Construct {
  readonly criticalTopic: sns.Topic;
  readonly warningTopic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly prefix: string;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { settings } = props;
    this.prefix = Stack.of(this).stackName;

    this.criticalTopic = new sns.Topic(this, 'Critical', {
      displayName: `AdsEngineer ${settings.stage} critical alarms`,
      masterKey: props.key,
      enforceSSL: true,
    });
    this.warningTopic = new sns.Topic(this, 'Warning', {
      displayName: `AdsEngineer ${settings.stage} warnings`,
      masterKey: props.key,
      enforceSSL: true,
    });

    const pagerDutyUrl =
      props.pagerDutyUrl ??
      ssm.StringParameter.valueForStringParameter(this, pagerDutyParameterName(settings.stage));
    this.criticalTopic.addSubscription(
      new subscriptions.UrlSubscription(pagerDutyUrl, { protocol: sns.SubscriptionProtocol.HTTPS }),
    );
    if (props.warningWebhookUrl) {
      this.warningTopic.addSubscription(
        new subscriptions.UrlSubscription(props.warningWebhookUrl, {
          protocol: sns.SubscriptionProtocol.HTTPS,
        }),
      );
    }

    this.dlqAlarms(props);
    this.functionErrorAlarms(props);
    this.api5xxAlarm(props);
    this.applicationAlarms(props);
    this.circuitAlarms(props);
  }

  /** Sends the alarm's ALARM and OK transitions to the topic of the given severity. */
  addAlarm(alarm: cloudwatch.Alarm, severity: Severity): cloudwatch.Alarm {
    const action = new actions.SnsAction(severity === 'critical' ? this.criticalTopic : this.warningTopic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    this.alarms.push(alarm);
    return alarm;
  }

  /** Creates an alarm on a metric and routes it by severity. */
  alarm(id: string, props: cloudwatch.AlarmProps, severity: Severity): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      ...props,
      alarmName: props.alarmName ?? `${this.prefix}-${id}`,
    });
    return this.addAlarm(alarm, severity);
  }

  private dlqAlarms(props: MonitoringProps): void {
    for (const [id, pair] of props.queues.queues.entries()) {
      this.alarm(
        `Dlq${pascal(id)}`,
        {
          metric: pair.dlq.metricApproximateNumberOfMessagesVisible({
            period: Duration.minutes(1),
            statistic: cloudwatch.Stats.MAXIMUM,
          }),
          alarmDescription: `Messages in the ${id} dead-letter queue: inspect with GET /api/v1/admin/dlq, fix, then redrive.`,
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        },
        'critical',
      );
    }
  }

  private functionErrorAlarms(props: MonitoringProps): void {
    for (const [id, deployed] of props.functions.functions.entries()) {
      this.alarm(
        `Errors${pascal(id)}`,
        {
          metric: deployed.fn.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
          alarmDescription: `The ${id} function failed ${props.settings.lambdaErrorThreshold} or more times in 5 minutes.`,
          threshold: props.settings.lambdaErrorThreshold,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        },
        'critical',
      );
    }
  }

  /** Alarms on the functions' own metrics (lib/definitions/metrics.ts). */
  private applicationAlarms(props: MonitoringProps): void {
    for (const definition of METRIC_ALARMS) {
      this.alarm(
        `Metric${definition.metric}`,
        {
          metric: new cloudwatch.Metric({
            namespace: METRIC_NAMESPACE,
            metricName: definition.metric,
            dimensionsMap: { service: SERVICE_NAME, stage: props.settings.stage },
            period: Duration.minutes(5),
            statistic: cloudwatch.Stats.SUM,
          }),
          alarmDescription: definition.description,
          threshold: definition.threshold,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        },
        definition.severity,
      );
    }
  }

  /** Per provider: its circuit open for 5 minutes warns, for 30 minutes pages. */
  private circuitAlarms(props: MonitoringProps): void {
    for (const provider of CIRCUIT_PROVIDERS) {
      for (const definition of CIRCUIT_ALARMS) {
        this.alarm(
          `Circuit${pascal(provider)}Open${definition.openSeconds / 60}m`,
          {
            metric: new cloudwatch.Metric({
              namespace: METRIC_NAMESPACE,
              metricName: METRICS.circuitOpenSeconds,
              dimensionsMap: { service: SERVICE_NAME, stage: props.settings.stage, provider },
              period: Duration.minutes(5),
              statistic: cloudwatch.Stats.MAXIMUM,
            }),
            alarmDescription: `The ${provider} circuit breaker has been ${definition.description}`,
            threshold: definition.openSeconds,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluationPeriods: 1,
            treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          },
          definition.severity,
        );
      }
    }
  }

  private api5xxAlarm(props: MonitoringProps): void {
    const period = Duration.minutes(5);
    const rate = new cloudwatch.MathExpression({
      label: 'API 5xx rate',
      expression: 'errors / requests',
      usingMetrics: {
        errors: props.apiStage.metricServerError({ period, statistic: cloudwatch.Stats.SUM }),
        requests: props.apiStage.metricCount({ period, statistic: cloudwatch.Stats.SUM }),
      },
      period,
    });
    this.alarm(
      'Api5xxRate',
      {
        metric: rate,
        alarmDescription: `More than ${props.settings.api5xxRateThreshold * 100}% of API requests answered 5xx in 5 minutes.`,
        threshold: props.settings.api5xxRateThreshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      },
      'critical',
    );
  }
}
