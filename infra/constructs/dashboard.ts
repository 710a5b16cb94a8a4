import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { Panel, PanelQuery, ResourceRef, Row } from '../../contract/dashboard';
import { METRIC_NAMESPACE, SERVICE_NAME } from '../../contract/metrics';

export interface OnCallDashboardProps {
  readonly dashboardName: string;
  readonly stage: string;
  readonly rows: readonly Row[];
  /** The AWS dimensions of a resource (function name, queue name, ...) in this stack. */
  readonly dimensionsOf: (resource: ResourceRef) => Record<string, string>;
}

const PERIOD = Duration.minutes(5);

/** The CloudWatch dashboard, rendered from the shared panel definitions (contract/dashboard.ts). */
export class OnCallDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: OnCallDashboardProps,
  ) {
    super(scope, id);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(3),
    });
    for (const row of props.rows) {
      this.dashboard.addWidgets(
        new cloudwatch.TextWidget({ markdown: `## ${row.title}`, width: 24, height: 1 }),
      );
      this.dashboard.addWidgets(...row.panels.map((panel) => this.widget(panel)));
    }
  }

  private widget(panel: Panel): cloudwatch.IWidget {
    const period = panel.overDays ? Duration.days(panel.overDays) : PERIOD;
    const drawn = this.metrics(panel.queries, period);
    if (panel.view === 'singleValue') {
      return new cloudwatch.SingleValueWidget({
        title: panel.title,
        metrics: drawn,
        width: panel.width,
        height: 6,
        ...(panel.overDays ? { start: `-P${panel.overDays}D`, setPeriodToTimeRange: true } : {}),
      });
    }
    return new cloudwatch.GraphWidget({
      title: panel.title,
      left: drawn,
      width: panel.width,
      height: 6,
      ...(panel.unit === 'percent' ? { leftYAxis: { min: 0, max: 100 } } : {}),
    });
  }

  /** The drawn metrics of a panel; expressions get the hidden queries they refer to. */
  private metrics(queries: readonly PanelQuery[], period: Duration): cloudwatch.IMetric[] {
    const inputs: Record<string, cloudwatch.IMetric> = {};
    for (const query of queries) {
      if (query.source !== 'expression' && query.hidden) inputs[query.id] = this.metric(query, period);
    }
    return queries.flatMap((query): cloudwatch.IMetric[] => {
      if (query.source === 'expression') {
        return [
          new cloudwatch.MathExpression({
            expression: query.expression,
            usingMetrics: inputs,
            label: query.label,
            period,
          }),
        ];
      }
      return query.hidden ? [] : [this.metric(query, period)];
    });
  }

  private metric(query: Exclude<PanelQuery, { source: 'expression' }>, period: Duration): cloudwatch.Metric {
    if (query.source === 'app') {
      return new cloudwatch.Metric({
        namespace: METRIC_NAMESPACE,
        metricName: query.metric,
        dimensionsMap: { service: SERVICE_NAME, stage: this.props.stage, ...query.dimensions },
        statistic: query.stat,
        label: query.label,
        period,
      });
    }
    return new cloudwatch.Metric({
      namespace: query.namespace,
      metricName: query.metric,
      dimensionsMap: this.props.dimensionsOf(query.resource),
      statistic: query.stat,
      label: query.label,
      period,
    });
  }
}
