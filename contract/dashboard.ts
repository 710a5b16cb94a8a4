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

/** A queue's gauge, at its highest over each period. */
function perQueue(kind: 'queue' | 'dlq', metric: string): AwsQuery[] {
  return QUEUES.map((q) =>
    aws('AWS/SQS', metric, 'Maximum', { kind, id: q.id }, kind === 'dlq' ? `${q.id} DLQ` : q.id),
  );
}

function perTable(metric: string): AwsQuery[] {
  return TABLES.map((t) => aws('AWS/DynamoDB', metric, 'Sum', { kind: 'table', id: t.id }, t.id));
}

function perSender(metric: MetricName): AppQuery[] {
  return SENDERS.map((sender) => app(metric, 'Sum', sender, { sender }));
}

/** A time series panel. */
function timeSeries(
  title: string,
  width: Panel['width'],
  unit: NonNullable<Panel['unit']>,
  queries: readonly PanelQuery[],
): Panel {
  return { title, view: 'timeSeries', width, unit, queries };
}

/** The API's 5xx answers and all its requests (both hidden), and an expression over the two. */
function overApiRequests(id: string, expression: string, label: string): PanelQuery[] {
  return [
    aws('AWS/ApiGateway', '5XXError', 'Sum', API, '5xx', true),
    aws('AWS/ApiGateway', 'Count', 'Sum', API, 'requests', true),
    { source: 'expression', id, expression, label },
  ];
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
    queries: overApiRequests(
      'budget_left',
      `100 * (1 - (api__5xxerror_sum / api__count_sum) / ${budget})`,
      'budget left %',
    ),
  };
}

export const DASHBOARD_ROWS: readonly Row[] = [
  {
    title: 'Objectives',
    panels: [
      budgetLeft(),
      timeSeries(
        'Availability (share of requests not 5xx)',
        6,
        'percent',
        overApiRequests('availability', '100 * (1 - api__5xxerror_sum / api__count_sum)', 'available %'),
      ),
      timeSeries(
        `Gateway latency (objective: p95 under ${LATENCY_THRESHOLD_MS} ms)`,
        6,
        'ms',
        (['p50', 'p95', 'p99'] as const).map((p) => aws('AWS/ApiGateway', 'Latency', p, API, p)),
      ),
      timeSeries('Uptime canary (share of runs that passed)', 6, 'percent', [
        aws('CloudWatchSynthetics', 'SuccessPercent', 'Average', { kind: 'canary' }, 'success %'),
      ]),
    ],
  },
  {
    title: 'API traffic per route group',
    panels: [
      ...(['2xx', '4xx', '5xx'] as const).map((status_class) =>
        timeSeries(
          `Requests answered ${status_class}`,
          8,
          'count',
          ROUTE_GROUPS.map((g) => app(METRICS.apiRequests, 'Sum', g, { route_group: g, status_class })),
        ),
      ),
      ...(['p50', 'p95'] as const).map((p) =>
        timeSeries(
          `Handler latency ${p} per route group`,
          12,
          'ms',
          ROUTE_GROUPS.map((g) => app(METRICS.apiLatency, p, g, { route_group: g })),
        ),
      ),
    ],
  },
  {
    title: 'Functions',
    panels: [
      timeSeries('Invocations', 6, 'count', perFunction('Invocations', 'Sum')),
      timeSeries('Errors', 6, 'count', perFunction('Errors', 'Sum')),
      timeSeries('Duration p95', 6, 'ms', perFunction('Duration', 'p95')),
      timeSeries('Throttles', 6, 'count', perFunction('Throttles', 'Sum')),
    ],
  },
  {
    title: 'Queues',
    panels: [
      timeSeries('Messages waiting', 8, 'count', perQueue('queue', 'ApproximateNumberOfMessagesVisible')),
      timeSeries('Oldest message age', 8, 'seconds', perQueue('queue', 'ApproximateAgeOfOldestMessage')),
      timeSeries('Dead letters', 8, 'count', perQueue('dlq', 'ApproximateNumberOfMessagesVisible')),
    ],
  },
  {
    title: 'Data',
    panels: [
      timeSeries('DynamoDB read throttles', 12, 'count', perTable('ReadThrottleEvents')),
      timeSeries('DynamoDB write throttles', 12, 'count', perTable('WriteThrottleEvents')),
    ],
  },
  {
    title: 'Leads and webhooks',
    panels: [
      timeSeries('Leads captured and refused for consent', 6, 'count', [
        app(METRICS.leadsStored, 'Sum', 'captured'),
        app(METRICS.leadsDeniedConsent, 'Sum', 'refused (consent)'),
      ]),
      timeSeries('Webhooks accepted per sender', 6, 'count', perSender(METRICS.webhookAccepted)),
      timeSeries(
        'Webhooks rejected (signature) per sender',
        6,
        'count',
        perSender(METRICS.webhookSignatureInvalid),
      ),
      timeSeries('Webhooks dead-lettered per sender', 6, 'count', perSender(METRICS.webhookDeadLettered)),
    ],
  },
  {
    title: 'Conversions and circuits',
    panels: [
      timeSeries('Conversions uploaded, failed, retried', 6, 'count', [
        app(METRICS.conversionsUploaded, 'Sum', 'uploaded'),
        app(METRICS.conversionsFailed, 'Sum', 'failed'),
        app(METRICS.conversionsRetried, 'Sum', 'retried'),
      ]),
      timeSeries(
        'Conversion events per platform: sent, failed, waiting',
        6,
        'count',
        (['google_ads', 'meta'] as const).flatMap((platform) => [
          app(METRICS.platformEventsSent, 'Sum', `${platform} sent`, { platform }),
          app(METRICS.platformEventsFailed, 'Sum', `${platform} failed`, { platform }),
          app(METRICS.platformEventsWaiting, 'Sum', `${platform} waiting`, { platform }),
        ]),
      ),
      timeSeries('Upload latency and batch size', 6, 'count', [
        app(METRICS.uploadLatency, 'p95', 'latency p95 (ms)'),
        app(METRICS.uploadBatchSize, 'Average', 'conversions per request'),
      ]),
      timeSeries(
        'Circuits: seconds open, per provider',
        6,
        'seconds',
        PROVIDERS.map((provider) => app(METRICS.circuitOpenSeconds, 'Maximum', provider, { provider })),
      ),
      timeSeries(
        'Circuits opened, per provider',
        6,
        'count',
        PROVIDERS.map((provider) =>
          app(METRICS.circuitStateChange, 'Sum', provider, { provider, state: 'open' }),
        ),
      ),
    ],
  },
];

/** Every query of every panel. */
export function allQueries(rows: readonly Row[] = DASHBOARD_ROWS): PanelQuery[] {
  return rows.flatMap((row) => row.panels.flatMap((panel) => [...panel.queries]));
}
