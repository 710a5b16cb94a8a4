import { Duration, Stack } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as chatbot from 'aws-cdk-lib/aws-chatbot';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { DASHBOARD_ROWS, type ResourceRef } from '../../contract/dashboard';
import {
  CIRCUIT_ALARMS,
  CIRCUIT_PROVIDERS,
  DIMENSION_VALUES,
  METRIC_ALARMS,
  METRIC_NAMESPACE,
  METRICS,
  SERVICE_NAME,
} from '../../contract/metrics';
import {
  alarmDescription,
  anchorOf,
  BURN_RATE_WINDOWS,
  type BurnRateWindow,
  burnRateThreshold,
  CANARY,
  LATENCY_THRESHOLD_MS,
  QUEUE_AGE_ALARMS,
  RUNBOOK_PATH,
  type ServiceLevelObjective,
  type Severity,
  SLOS,
  THRESHOLDS,
} from '../../contract/monitoring';
import type { StageSettings } from '../../contract/stages';
import { UptimeCanary } from './canary';
import { OnCallDashboard } from './dashboard';
import type { Data } from './data';
import type { Functions } from './functions';
import type { Queues } from './queues';
import { pascal } from './support';

export type { Severity } from '../../contract/monitoring';

export interface SlackChannel {
  readonly workspaceId: string;
  readonly channelId: string;
}

export interface MonitoringProps {
  readonly settings: StageSettings;
  readonly key: kms.IKey;
  readonly functions: Functions;
  readonly queues: Queues;
  readonly data: Data;
  readonly apiStage: apigateway.Stage;
  /** The API's base URL, for the uptime canary. */
  readonly apiUrl: string;
  /** Where the canary's artifact bucket logs its access. */
  readonly accessLogBucket: s3.IBucket;
  /** PagerDuty CloudWatch integration URL; else read from SSM `/adsengineer/<stage>/pagerduty-url`. */
  readonly pagerDutyUrl?: string;
  /** Optional HTTPS endpoint for warnings (e.g. a chat webhook bridge). */
  readonly warningWebhookUrl?: string;
  /** Slack through AWS Chatbot: both topics post to this channel. */
  readonly slack?: SlackChannel;
  /** A browsable URL of docs/runbook.md; alarm descriptions link its sections. */
  readonly runbookBaseUrl?: string;
}

export function pagerDutyParameterName(stage: string): string {
  return `/adsengineer/${stage}/pagerduty-url`;
}

/** Extra options of an alarm created through the construct. */
export interface AlarmOptions {
  /** Runbook section; by default the anchor of the alarm id (`DlqWebhooks` → `dlq-webhooks`). */
  readonly runbook?: string;
}

/**
 * Alarm topics (critical pages on-call through PagerDuty, warning informs; both to Slack through
 * AWS Chatbot when a channel is given), the service level objectives' burn-rate alarms, resource
 * alarms, the uptime canary and the on-call dashboard. Every alarm that notifies sends both its
 * ALARM and its OK transition to the topic its severity names, so PagerDuty resolves what it
 * opened; its description starts with the severity and ends with its runbook link. Other
 * constructs add alarms with `alarm(id, props, severity)`.
 */
export class Monitoring extends Construct {
  readonly criticalTopic: sns.Topic;
  readonly warningTopic: sns.Topic;
  /** Alarms that notify (metric and composite). */
  readonly alarms: cloudwatch.AlarmBase[] = [];
  readonly canary: UptimeCanary;
  readonly dashboard: OnCallDashboard;
  readonly slack?: chatbot.SlackChannelConfiguration;
  private readonly prefix: string;
  private readonly runbookBase: string;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: MonitoringProps,
  ) {
    super(scope, id);
    const { settings } = props;
    this.prefix = Stack.of(this).stackName;
    this.runbookBase = props.runbookBaseUrl ?? RUNBOOK_PATH;

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
    this.subscribe(props);
    if (props.slack) this.slack = this.slackChannel(props.slack);

    this.canary = new UptimeCanary(this, 'Uptime', {
      settings,
      key: props.key,
      apiUrl: props.apiUrl,
      accessLogBucket: props.accessLogBucket,
    });

    for (const slo of SLOS) for (const window of BURN_RATE_WINDOWS) this.burnRateAlarm(slo, window);
    this.queueAlarms();
    this.functionAlarms();
    this.tableAlarms();
    this.applicationAlarms();
    this.securityAlarms();
    this.circuitAlarms();
    this.canaryAlarm();

    this.dashboard = new OnCallDashboard(this, 'OnCall', {
      dashboardName: `${this.prefix}-on-call`,
      stage: settings.stage,
      rows: DASHBOARD_ROWS,
      dimensionsOf: (resource) => this.dimensionsOf(resource),
    });
  }

  /** Sends the alarm's ALARM and OK transitions to the topic of the given severity. */
  addAlarm<T extends cloudwatch.AlarmBase>(alarm: T, severity: Severity): T {
    const action = new actions.SnsAction(severity === 'critical' ? this.criticalTopic : this.warningTopic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    this.alarms.push(alarm);
    return alarm;
  }

  /**
   * Creates an alarm on a metric and routes it by severity. Its description gets the severity
   * first and the runbook link last; every such alarm needs its section in docs/runbook.md.
   */
  alarm(
    id: string,
    props: cloudwatch.AlarmProps,
    severity: Severity,
    options: AlarmOptions = {},
  ): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      ...props,
      alarmName: props.alarmName ?? `${this.prefix}-${id}`,
      alarmDescription: this.describe(
        severity,
        props.alarmDescription ?? id,
        options.runbook ?? anchorOf(id),
      ),
    });
    return this.addAlarm(alarm, severity);
  }

  /** The link to a runbook section. */
  runbookUrl(anchor: string): string {
    return `${this.runbookBase}#${anchor}`;
  }

  private describe(severity: Severity, text: string, anchor: string): string {
    return alarmDescription(severity, text, this.runbookUrl(anchor));
  }

  private subscribe(props: MonitoringProps): void {
    const pagerDutyUrl =
      props.pagerDutyUrl ??
      ssm.StringParameter.valueForStringParameter(this, pagerDutyParameterName(props.settings.stage));
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
  }

  /**
   * Both topics post to one Slack channel. The channel's guardrail denies every action, so
   * nobody can run commands against the account from Slack: it only reads notifications.
   */
  private slackChannel(slack: SlackChannel): chatbot.SlackChannelConfiguration {
    const guardrail = new iam.ManagedPolicy(this, 'SlackGuardrail', {
      description: 'AdsEngineer alarm channel: notifications only, no actions from Slack',
      statements: [new iam.PolicyStatement({ effect: iam.Effect.DENY, actions: ['*'], resources: ['*'] })],
    });
    return new chatbot.SlackChannelConfiguration(this, 'Slack', {
      slackChannelConfigurationName: `${this.prefix}-alarms`.slice(0, 128),
      slackWorkspaceId: slack.workspaceId,
      slackChannelId: slack.channelId,
      notificationTopics: [this.criticalTopic, this.warningTopic],
      guardrailPolicies: [guardrail],
      loggingLevel: chatbot.LoggingLevel.ERROR,
    });
  }

  private dimensionsOf(resource: ResourceRef): Record<string, string> {
    switch (resource.kind) {
      case 'function':
        return { FunctionName: this.props.functions.functions.get(resource.id).fn.functionName };
      case 'queue':
        return { QueueName: this.props.queues.queues.get(resource.id).queue.queueName };
      case 'dlq':
        return { QueueName: this.props.queues.queues.get(resource.id).dlq.queueName };
      case 'table':
        return { TableName: this.props.data.tables.get(resource.id).tableName };
      case 'api':
        return { ApiName: this.props.apiStage.restApi.restApiName, Stage: this.props.apiStage.stageName };
      case 'canary':
        return { CanaryName: this.canary.canary.canaryName };
    }
  }

  private apiMetric(metricName: string, statistic: string, period: Duration): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/ApiGateway',
      metricName,
      dimensionsMap: this.dimensionsOf({ kind: 'api' }),
      statistic,
      period,
    });
  }

  /** The share of bad events over one window: 5xx per request, or requests slower than the objective. */
  private badRatio(slo: ServiceLevelObjective, minutes: number): cloudwatch.MathExpression {
    const period = Duration.minutes(minutes);
    if (slo.id === 'Availability') {
      return new cloudwatch.MathExpression({
        label: `5xx share over ${minutes} min`,
        expression: 'errors / requests',
        usingMetrics: {
          errors: this.apiMetric('5XXError', cloudwatch.Stats.SUM, period),
          requests: this.apiMetric('Count', cloudwatch.Stats.SUM, period),
        },
        period,
      });
    }
    return new cloudwatch.MathExpression({
      label: `share slower than ${LATENCY_THRESHOLD_MS} ms over ${minutes} min`,
      expression: '1 - fast / 100',
      usingMetrics: {
        fast: this.apiMetric('Latency', cloudwatch.Stats.percentileRank(0, LATENCY_THRESHOLD_MS), period),
      },
      period,
    });
  }

  /**
   * One multiwindow burn-rate alert: the long and the short window must both burn faster than
   * `factor`; the composite of the two notifies. The window alarms themselves notify nobody, and
   * no traffic is no bad event (missing data is not breaching).
   */
  private burnRateAlarm(slo: ServiceLevelObjective, window: BurnRateWindow): void {
    const id = `Slo${slo.id}${window.name}`;
    const threshold = burnRateThreshold(slo.objective, window.factor);
    const runbook = slo.runbook;
    const windowAlarm = (which: 'Long' | 'Short', minutes: number) =>
      new cloudwatch.Alarm(this, `${id}${which}`, {
        alarmName: `${this.prefix}-${id}${which}`,
        alarmDescription: this.describe(
          window.severity,
          `${which} window (${minutes} min) of ${id}: notifies through ${id}, not on its own.`,
          runbook,
        ),
        metric: this.badRatio(slo, minutes),
        threshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    const long = windowAlarm('Long', window.longMinutes);
    const short = windowAlarm('Short', window.shortMinutes);
    const composite = new cloudwatch.CompositeAlarm(this, id, {
      compositeAlarmName: `${this.prefix}-${id}`,
      alarmDescription: this.describe(
        window.severity,
        `The ${slo.id.toLowerCase()} objective (${slo.objective * 100} % ${slo.good}) is burning its error budget ${window.factor}x faster than sustainable over ${window.longMinutes} min and still over the last ${window.shortMinutes} min.`,
        runbook,
      ),
      alarmRule: cloudwatch.AlarmRule.allOf(long, short),
    });
    this.addAlarm(composite, window.severity);
  }

  private queueAlarms(): void {
    for (const [id, pair] of this.props.queues.queues.entries()) {
      this.alarm(
        `Dlq${pascal(id)}`,
        {
          metric: pair.dlq.metricApproximateNumberOfMessagesVisible({
            period: Duration.minutes(1),
            statistic: cloudwatch.Stats.MAXIMUM,
          }),
          alarmDescription: `Messages in the ${id} dead-letter queue: data waits there and is lost after ${pair.definition.dlqRetentionDays} days. Inspect with GET /api/v1/admin/dlq, fix, then redrive.`,
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          // An empty queue may publish no datapoint: that is the good state.
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        },
        'critical',
        { runbook: 'dead-letters' },
      );
      const age = QUEUE_AGE_ALARMS[id];
      this.alarm(
        `QueueAge${pascal(id)}`,
        {
          metric: pair.queue.metricApproximateAgeOfOldestMessage({
            period: Duration.minutes(5),
            statistic: cloudwatch.Stats.MAXIMUM,
          }),
          alarmDescription: `The oldest message in the ${id} queue has waited more than ${age.maxAgeSeconds / 60} minutes: its consumer is stuck, failing or throttled.`,
          threshold: age.maxAgeSeconds,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        },
        age.severity,
        { runbook: 'queue-age' },
      );
    }
  }

  /** Function error rate and throttles warn; what users feel pages through the objectives and queues. */
  private functionAlarms(): void {
    const period = Duration.minutes(5);
    for (const [id, deployed] of this.props.functions.functions.entries()) {
      this.alarm(
        `Errors${pascal(id)}`,
        {
          metric: new cloudwatch.MathExpression({
            label: `${id} error rate`,
            expression: 'errors / invocations',
            usingMetrics: {
              errors: deployed.fn.metricErrors({ period, statistic: cloudwatch.Stats.SUM }),
              invocations: deployed.fn.metricInvocations({ period, statistic: cloudwatch.Stats.SUM }),
            },
            period,
          }),
          alarmDescription: `More than ${THRESHOLDS.functionErrorRate * 100} % of the ${id} function's invocations failed in 2 of the last 3 5-minute periods.`,
          threshold: THRESHOLDS.functionErrorRate,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 3,
          datapointsToAlarm: 2,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        },
        'warning',
        { runbook: 'function-errors' },
      );
      this.alarm(
        `Throttles${pascal(id)}`,
        {
          metric: deployed.fn.metricThrottles({ period, statistic: cloudwatch.Stats.SUM }),
          alarmDescription: `The ${id} function was throttled: the account or its reserved concurrency is exhausted.`,
          threshold: THRESHOLDS.functionThrottles,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        },
        'warning',
        { runbook: 'function-throttles' },
      );
    }
  }

  private tableAlarms(): void {
    const period = Duration.minutes(5);
    for (const [id, table] of this.props.data.tables.entries()) {
      const metric = (metricName: string) =>
        new cloudwatch.Metric({
          namespace: 'AWS/DynamoDB',
          metricName,
          dimensionsMap: { TableName: table.tableName },
          statistic: cloudwatch.Stats.SUM,
          period,
        });
      this.alarm(
        `TableThrottles${pascal(id)}`,
        {
          metric: new cloudwatch.MathExpression({
            label: `${id} throttle events`,
            expression: 'FILL(reads, 0) + FILL(writes, 0)',
            usingMetrics: { reads: metric('ReadThrottleEvents'), writes: metric('WriteThrottleEvents') },
            period,
          }),
          alarmDescription: `DynamoDB throttled reads or writes of the ${id} table.`,
          threshold: THRESHOLDS.tableThrottles,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        },
        'warning',
        { runbook: 'table-throttles' },
      );
    }
  }

  private appMetric(metricName: string, dimensions: Record<string, string> = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName,
      dimensionsMap: { service: SERVICE_NAME, stage: this.props.settings.stage, ...dimensions },
      period: Duration.minutes(5),
      statistic: cloudwatch.Stats.SUM,
    });
  }

  /** Alarms on the functions' own metrics (contract/metrics.ts); no events is the good state. */
  private applicationAlarms(): void {
    for (const definition of METRIC_ALARMS) {
      this.alarm(
        `Metric${definition.metric}`,
        {
          metric: this.appMetric(definition.metric),
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

  /**
   * Per provider: its circuit open for 30 minutes pages. Missing data is the good state: the
   * metric is emitted only while calls are refused.
   */
  private circuitAlarms(): void {
    for (const provider of CIRCUIT_PROVIDERS) {
      for (const definition of CIRCUIT_ALARMS) {
        const name = provider.replace(/(^|_)([a-z])/g, (_m, _sep, c: string) => c.toUpperCase());
        const id = `Circuit${name}Open${definition.openSeconds / 60}m`;
        this.alarm(
          id,
          {
            metric: this.appMetric(METRICS.circuitOpenSeconds, { provider }).with({
              statistic: cloudwatch.Stats.MAXIMUM,
            }),
            alarmDescription: `The ${provider} circuit breaker has been ${definition.description}`,
            threshold: definition.openSeconds,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluationPeriods: 1,
            treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          },
          definition.severity,
          { runbook: 'circuit-open' },
        );
      }
    }
  }

  /** Spikes of refused signatures and tokens: probing or a broken client; they warn. */
  private securityAlarms(): void {
    const period = Duration.minutes(5);
    const senders = DIMENSION_VALUES.sender;
    const signatureMetrics = Object.fromEntries(
      senders.map((sender, i) => [`s${i}`, this.appMetric(METRICS.webhookSignatureInvalid, { sender })]),
    );
    this.alarm(
      'SecuritySignatureFailures',
      {
        metric: new cloudwatch.MathExpression({
          label: 'webhook signatures refused',
          expression: Object.keys(signatureMetrics)
            .map((k) => `FILL(${k}, 0)`)
            .join(' + '),
          usingMetrics: signatureMetrics,
          period,
        }),
        alarmDescription: `At least ${THRESHOLDS.signatureFailures} webhook deliveries were refused for their signature or source in 5 minutes.`,
        threshold: THRESHOLDS.signatureFailures,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      },
      'warning',
    );
    this.alarm(
      'SecurityTokenFailures',
      {
        metric: new cloudwatch.MathExpression({
          label: 'tokens and API keys refused',
          expression: 'FILL(tokens, 0) + FILL(keys, 0)',
          usingMetrics: {
            tokens: this.appMetric(METRICS.authTokenRejected),
            keys: this.appMetric(METRICS.authApiKeyRejected),
          },
          period,
        }),
        alarmDescription: `At least ${THRESHOLDS.tokenFailures} bearer tokens or API keys were refused in 5 minutes.`,
        threshold: THRESHOLDS.tokenFailures,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      },
      'warning',
    );
  }

  /** The service down from outside pages; a canary that stops reporting is treated as down. */
  private canaryAlarm(): void {
    this.alarm(
      'CanaryFailing',
      {
        metric: this.canary.canary.metricSuccessPercent({
          period: Duration.minutes(this.props.settings.canaryEveryMinutes),
          statistic: cloudwatch.Stats.AVERAGE,
        }),
        alarmDescription: `The uptime canary failed ${CANARY.failedRunsToPage} of its last ${CANARY.ofLastRuns} runs: /health or an authenticated read does not work from outside.`,
        threshold: 100,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: CANARY.ofLastRuns,
        datapointsToAlarm: CANARY.failedRunsToPage,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      },
      'critical',
      { runbook: 'canary-failing' },
    );
  }
}
