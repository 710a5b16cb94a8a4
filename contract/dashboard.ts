/**
 * The on-call dashboard, as data. The CloudWatch dashboard of the stack and the Grafana
 * dashboard JSON (docs/grafana/adsengineer.json) are both rendered from these panels, and every
 * metric a panel names is either one the functions emit (metrics.ts) or one AWS publishes
 * (AWS_METRICS below), so a metric cannot be renamed in one place and not the other.
 */

import { DIMENSION_VALUES, type DimensionName, METRICS, type MetricName } from './metrics';
import { AVAILABILITY_SLO, LATENCY_THRESHOLD_MS, SLO_PERIOD_DAYS } from './monitoring';
import { FUNCTIONS, type FunctionId, QUEUES, type QueueId, TABLES, type TableId } from './resources';

/** A resource whose AWS metrics a panel shows; renderers turn it into dimension values. */
export type ResourceRef =
  | { readonly kind: 'function'; readonly id: FunctionId }
  | { readonly kind: 'queue' | 'dlq'; readonly id: QueueId }
  | { readonly kind: 'table'; readonly id: TableId }
  | { readonly kind: 'api' }
  | { readonly kind: 'canary' };

/** Metrics AWS publishes that the dashboards and alarms use, per namespace and resource kind. */
export const AWS_METRICS = {
  'AWS/Lambda': { resource: 'function', metrics: ['Invocations', 'Errors', 'Duration', 'Throttles'] },
  'AWS/SQS': {
    resource: 'queue',
    metrics: ['ApproximateNumberOfMessagesVisible', 'ApproximateAgeOfOldestMessage', 'NumberOfMessagesSent'],
  },
  'AWS/DynamoDB': { resource: 'table', metrics: ['ReadThrottleEvents', 'WriteThrottleEvents'] },
  'AWS/ApiGateway': { resource: 'api', metrics: ['Count', '5XXError', '4XXError', 'Latency'] },
  CloudWatchSynthetics: { resource: 'canary', metrics: ['SuccessPercent', 'Duration'] },
} as const;

export type AwsNamespace = keyof typeof AWS_METRICS;

export interface AppQuery {
  readonly source: 'app';
  readonly id: string;
  readonly metric: MetricName;
  readonly stat: string;
  readonly dimensions?: Partial<Record<DimensionName, string>>;
  readonly label: string;
  /** Only an input of an expression, not drawn. */
  readonly hidden?: boolean;
}

export interface AwsQuery {
  readonly source: 'aws';
  readonly id: string;
  readonly namespace: AwsNamespace;
  readonly metric: string;
  readonly stat: string;
  readonly resource: ResourceRef;
  readonly label: string;
  readonly hidden?: boolean;
}

export interface ExpressionQuery {
  readonly source: 'expression';
  readonly id: string;
  /** CloudWatch metric math over the ids of the panel's other queries. */
  readonly expression: string;
  readonly label: string;
}

export type PanelQuery = AppQuery | AwsQuery | ExpressionQuery;

export interface Panel {
  readonly title: string;
  readonly view: 'timeSeries' | 'singleValue';
  /** Of 24 columns. */
  readonly width: 6 | 8 | 12 | 24;
  readonly unit?: 'percent' | 'ms' | 'seconds' | 'count';
  readonly queries: readonly PanelQuery[];
  /** Single values over this many days rather than the dashboard's range. */
  readonly overDays?: number;
}

export interface Row {
  readonly title: string;
  readonly panels: readonly Panel[];
}

const sanitize = (id: string) => id.replace(/[^a-zA-Z0-9_]/g, '_').replace(/^[^a-z]/, (c) => `m${c}`);

const app = (
  metric: MetricName,
  stat: string,
  label: string,
  dimensions?: Partial<Record<DimensionName, string>>,
  hidden = false,
): AppQuery => ({
  source: 'app',
  id: sanitize(`${metric}_${Object.values(dimensions ?? {}).join('_')}_${stat}`.toLowerCase()),
  metric,
  stat,
  label,
  ...(dimensions ? { dimensions } : {}),
  ...(hidden ? { hidden } : {}),
});

const aws = (
  namespace: AwsNamespace,
  metric: string,
  stat: string,
  resource: ResourceRef,
  label: string,
  hidden = false,
): AwsQuery => ({
  source: 'aws',
  id: sanitize(`${resource.kind}_${'id' in resource ? resource.id : ''}_${metric}_${stat}`.toLowerCase()),
  namespace,
  metric,
  stat,
  resource,
  label,
  ...(hidden ? { hidden } : {}),
});

const API: ResourceRef = { kind: 'api' };
const SENDERS = DIMENSION_VALUES.sender.filter((s) => s !== 'other');
const PROVIDERS = DIMENSION_VALUES.provider;
const ROUTE_GROUPS = DIMENSION_VALUES.route_group.filter((g) => g !== 'other');

function perFunction(metric: string, stat: string): AwsQuery[] {
  return FUNCTIONS.map((f) => aws('AWS/Lambda', metric, stat, { kind: 'function', id: f.id }, f.id));
}

function perQueue(kind: 'queue' | 'dlq', metric: string, stat: string): AwsQuery[] {
  return QUEUES.map((q) =>
    aws('AWS/SQS', metric, stat, { kind, id: q.id }, kind === 'dlq' ? `${q.id} DLQ` : q.id),
  );
}

function perTable(metric: string): AwsQuery[] {
  return TABLES.map((t) => aws('AWS/DynamoDB', metric, 'Sum', { kind: 'table', id: t.id }, t.id));
}

function perSender(metric: MetricName): AppQuery[] {
  return SENDERS.map((sender) => app(metric, 'Sum', sender, { sender }));
}

/** 100 × (1 − bad share ÷ budget): how much of the objective's error budget is left. */
function budgetLeft(): Panel {
  const budget = 1 - AVAILABILITY_SLO.objective;
  return {
    title: `Error budget left (availability ${AVAILABILITY_SLO.objective * 100} %, ${SLO_PERIOD_DAYS} days)`,
    view: 'singleValue',
    width: 6,
    unit: 'percent',
    overDays: SLO_PERIOD_DAYS,
    queries: [
      aws('AWS/ApiGateway', '5XXError', 'Sum', API, '5xx', true),
      aws('AWS/ApiGateway', 'Count', 'Sum', API, 'requests', true),
      {
        source: 'expression',
        id: 'budget_left',
        expression: `100 * (1 - (api__5xxerror_sum / api__count_sum) / ${budget})`,
        label: 'budget left %',
      },
    ],
  };
}

export const DASHBOARD_ROWS: readonly Row[] = [
  {
    title: 'Objectives',
    panels: [
      budgetLeft(),
      {
        title: 'Availability (share of requests not 5xx)',
        view: 'timeSeries',
        width: 6,
        unit: 'percent',
        queries: [
          aws('AWS/ApiGateway', '5XXError', 'Sum', API, '5xx', true),
          aws('AWS/ApiGateway', 'Count', 'Sum', API, 'requests', true),
          {
            source: 'expression',
            id: 'availability',
            expression: '100 * (1 - api__5xxerror_sum / api__count_sum)',
            label: 'available %',
          },
        ],
      },
      {
        title: `Gateway latency (objective: p95 under ${LATENCY_THRESHOLD_MS} ms)`,
        view: 'timeSeries',
        width: 6,
        unit: 'ms',
        queries: [
          aws('AWS/ApiGateway', 'Latency', 'p50', API, 'p50'),
          aws('AWS/ApiGateway', 'Latency', 'p95', API, 'p95'),
          aws('AWS/ApiGateway', 'Latency', 'p99', API, 'p99'),
        ],
      },
      {
        title: 'Uptime canary (share of runs that passed)',
        view: 'timeSeries',
        width: 6,
        unit: 'percent',
        queries: [aws('CloudWatchSynthetics', 'SuccessPercent', 'Average', { kind: 'canary' }, 'success %')],
      },
    ],
  },
  {
    title: 'API traffic per route group',
    panels: [
      {
        title: 'Requests answered 2xx',
        view: 'timeSeries',
        width: 8,
        unit: 'count',
        queries: ROUTE_GROUPS.map((g) =>
          app(METRICS.apiRequests, 'Sum', g, { route_group: g, status_class: '2xx' }),
        ),
      },
      {
        title: 'Requests answered 4xx',
        view: 'timeSeries',
        width: 8,
        unit: 'count',
        queries: ROUTE_GROUPS.map((g) =>
          app(METRICS.apiRequests, 'Sum', g, { route_group: g, status_class: '4xx' }),
        ),
      },
      {
        title: 'Requests answered 5xx',
        view: 'timeSeries',
        width: 8,
        unit: 'count',
        queries: ROUTE_GROUPS.map((g) =>
          app(METRICS.apiRequests, 'Sum', g, { route_group: g, status_class: '5xx' }),
        ),
      },
      {
        title: 'Handler latency p50 per route group',
        view: 'timeSeries',
        width: 12,
        unit: 'ms',
        queries: ROUTE_GROUPS.map((g) => app(METRICS.apiLatency, 'p50', g, { route_group: g })),
      },
      {
        title: 'Handler latency p95 per route group',
        view: 'timeSeries',
        width: 12,
        unit: 'ms',
        queries: ROUTE_GROUPS.map((g) => app(METRICS.apiLatency, 'p95', g, { route_group: g })),
      },
    ],
  },
  {
    title: 'Functions',
    panels: [
      {
        title: 'Invocations',
        view: 'timeSeries',
        width: 6,
        unit: 'count',
        queries: perFunction('Invocations', 'Sum'),
      },
      { title: 'Errors', view: 'timeSeries', width: 6, unit: 'count', queries: perFunction('Errors', 'Sum') },
      {
        title: 'Duration p95',
        view: 'timeSeries',
        width: 6,
        unit: 'ms',
        queries: perFunction('Duration', 'p95'),
      },
      {
        title: 'Throttles',
        view: 'timeSeries',
        width: 6,
        unit: 'count',
        queries: perFunction('Throttles', 'Sum'),
      },
    ],
  },
  {
    title: 'Queues',
    panels: [
      {
        title: 'Messages waiting',
        view: 'timeSeries',
        width: 8,
        unit: 'count',
        queries: perQueue('queue', 'ApproximateNumberOfMessagesVisible', 'Maximum'),
      },
      {
        title: 'Oldest message age',
        view: 'timeSeries',
        width: 8,
        unit: 'seconds',
        queries: perQueue('queue', 'ApproximateAgeOfOldestMessage', 'Maximum'),
      },
      {
        title: 'Dead letters',
        view: 'timeSeries',
        width: 8,
        unit: 'count',
        queries: perQueue('dlq', 'ApproximateNumberOfMessagesVisible', 'Maximum'),
      },
    ],
  },
  {
    title: 'Data',
    panels: [
      {
        title: 'DynamoDB read throttles',
        view: 'timeSeries',
        width: 12,
        unit: 'count',
        queries: perTable('ReadThrottleEvents'),
      },
      {
        title: 'DynamoDB write throttles',
        view: 'timeSeries',
        width: 12,
        unit: 'count',
        queries: perTable('WriteThrottleEvents'),
      },
    ],
  },
  {
    title: 'Leads and webhooks',
    panels: [
      {
        title: 'Leads captured and refused for consent',
        view: 'timeSeries',
        width: 6,
        unit: 'count',
        queries: [
          app(METRICS.leadsStored, 'Sum', 'captured'),
          app(METRICS.leadsDeniedConsent, 'Sum', 'refused (consent)'),
        ],
      },
      {
        title: 'Webhooks accepted per sender',
        view: 'timeSeries',
        width: 6,
        unit: 'count',
        queries: perSender(METRICS.webhookAccepted),
      },
      {
        title: 'Webhooks rejected (signature) per sender',
        view: 'timeSeries',
        width: 6,
        unit: 'count',
        queries: perSender(METRICS.webhookSignatureInvalid),
      },
      {
        title: 'Webhooks dead-lettered per sender',
        view: 'timeSeries',
        width: 6,
        unit: 'count',
        queries: perSender(METRICS.webhookDeadLettered),
      },
    ],
  },
  {
    title: 'Conversions and circuits',
    panels: [
      {
        title: 'Conversions uploaded, failed, retried',
        view: 'timeSeries',
        width: 6,
        unit: 'count',
        queries: [
          app(METRICS.conversionsUploaded, 'Sum', 'uploaded'),
          app(METRICS.conversionsFailed, 'Sum', 'failed'),
          app(METRICS.conversionsRetried, 'Sum', 'retried'),
        ],
      },
      {
        title: 'Conversion events per platform: sent, failed, waiting',
        view: 'timeSeries',
        width: 6,
        unit: 'count',
        queries: (['google_ads', 'meta'] as const).flatMap((platform) => [
          app(METRICS.platformEventsSent, 'Sum', `${platform} sent`, { platform }),
          app(METRICS.platformEventsFailed, 'Sum', `${platform} failed`, { platform }),
          app(METRICS.platformEventsWaiting, 'Sum', `${platform} waiting`, { platform }),
        ]),
      },
      {
        title: 'Upload latency and batch size',
        view: 'timeSeries',
        width: 6,
        unit: 'count',
        queries: [
          app(METRICS.uploadLatency, 'p95', 'latency p95 (ms)'),
          app(METRICS.uploadBatchSize, 'Average', 'conversions per request'),
        ],
      },
      {
        title: 'Circuits: seconds open, per provider',
        view: 'timeSeries',
        width: 6,
        unit: 'seconds',
        queries: PROVIDERS.map((provider) =>
          app(METRICS.circuitOpenSeconds, 'Maximum', provider, { provider }),
        ),
      },
      {
        title: 'Circuits opened, per provider',
        view: 'timeSeries',
        width: 6,
        unit: 'count',
        queries: PROVIDERS.map((provider) =>
          app(METRICS.circuitStateChange, 'Sum', provider, { provider, state: 'open' }),
        ),
      },
    ],
  },
];

/** Every query of every panel. */
export function allQueries(rows: readonly Row[] = DASHBOARD_ROWS): PanelQuery[] {
  return rows.flatMap((row) => row.panels.flatMap((panel) => [...panel.queries]));
}
