import {
  DASHBOARD_ROWS,
  type Panel,
  type PanelQuery,
  type ResourceRef,
  type Row,
} from '../contract/dashboard';
import { METRIC_NAMESPACE, SERVICE_NAME } from '../contract/metrics';
import { CANARY } from '../contract/monitoring';
import { FUNCTIONS, QUEUES, TABLES } from '../contract/resources';

/**
 * The Grafana dashboard (CloudWatch data source), rendered from the same panel definitions as the
 * stack's CloudWatch dashboard. Importable into Amazon Managed Grafana or any Grafana with the
 * CloudWatch plugin: pick the data source, region and stage; the functions', queues' and tables'
 * physical names are found by hidden variables that match the names CloudFormation gives them
 * (`AdsEngineer-<stage>-<construct path><hash>...`).
 */

// Grafana's own variable syntax, not a template literal.
const DATASOURCE = { type: 'cloudwatch', uid: ['$', '{datasource}'].join('') } as const;
const pascal = (id: string) => id.charAt(0).toUpperCase() + id.slice(1);

interface ResourceVariable {
  readonly name: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimension: string;
  /** The construct path part of the physical name, before its hash. */
  readonly constructPrefix: string;
  /**
   * What follows it: the 8 hex digits of the logical id's hash, then `-` and a random suffix.
   * Function names are cut to 64 characters, so only the hash's start is sure to be there.
   */
  readonly hash: string;
}

type NamedResource = Extract<ResourceRef, { id: string }>;

/** Queues and their dead-letter queues alike. */
const SQS_QUEUE = {
  namespace: 'AWS/SQS',
  metricName: 'ApproximateNumberOfMessagesVisible',
  dimension: 'QueueName',
  hash: '[0-9A-F]{8}-',
} as const;

/**
 * Per kind of resource: the variable's prefix, a metric every such resource has with the
 * dimension that names it, and the construct path CloudFormation's name starts with.
 */
const VARIABLES: Record<
  NamedResource['kind'],
  Omit<ResourceVariable, 'name' | 'constructPrefix'> & { prefix: string; construct: (id: string) => string }
> = {
  function: {
    prefix: 'fn',
    namespace: 'AWS/Lambda',
    metricName: 'Invocations',
    dimension: 'FunctionName',
    hash: '[0-9A-F]',
    construct: (id) => `Functions${pascal(id)}`,
  },
  queue: { prefix: 'queue', ...SQS_QUEUE, construct: (id) => `Queues${pascal(id)}` },
  dlq: { prefix: 'dlq', ...SQS_QUEUE, construct: (id) => `Queues${pascal(id)}Dlq` },
  table: {
    prefix: 'table',
    namespace: 'AWS/DynamoDB',
    metricName: 'ConsumedReadCapacityUnits',
    dimension: 'TableName',
    hash: '[0-9A-F]{8}-',
    construct: (id) => `Data${pascal(id)}`,
  },
};

/** The hidden variable that finds a resource's physical name. */
export function resourceVariable(resource: ResourceRef): ResourceVariable | undefined {
  if (!('id' in resource)) return undefined;
  const { prefix, construct, ...found } = VARIABLES[resource.kind];
  return { ...found, name: `${prefix}_${resource.id}`, constructPrefix: construct(resource.id) };
}

function dimensionsOf(resource: ResourceRef): Record<string, string> {
  if (resource.kind === 'api') return { ApiName: 'adsengineer-$stage', Stage: '$stage' };
  if (resource.kind === 'canary') return { CanaryName: CANARY.name('$stage') };
  const variable = resourceVariable(resource) as ResourceVariable;
  return { [variable.dimension]: `$${variable.name}` };
}

function unitOf(panel: Panel): string {
  return { percent: 'percent', ms: 'ms', seconds: 's', count: 'short' }[panel.unit ?? 'count'];
}

function target(query: PanelQuery, refId: string, period: string): Record<string, unknown> {
  const common = { refId, datasource: DATASOURCE, region: '$region', id: query.id, label: query.label };
  if (query.source === 'expression') {
    return {
      ...common,
      queryMode: 'Metrics',
      metricQueryType: 0,
      metricEditorMode: 1,
      expression: query.expression,
    };
  }
  const base = {
    ...common,
    queryMode: 'Metrics',
    metricQueryType: 0,
    metricEditorMode: 0,
    matchExact: true,
    statistic: query.stat,
    period,
    hide: query.hidden === true,
  };
  if (query.source === 'app') {
    return {
      ...base,
      namespace: METRIC_NAMESPACE,
      metricName: query.metric,
      dimensions: { service: SERVICE_NAME, stage: '$stage', ...query.dimensions },
    };
  }
  return {
    ...base,
    namespace: query.namespace,
    metricName: query.metric,
    dimensions: dimensionsOf(query.resource),
  };
}

function panelJson(panel: Panel, id: number, x: number, y: number): Record<string, unknown> {
  const period = panel.overDays ? String(panel.overDays * 86_400) : '300';
  const refIds = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  return {
    id,
    type: panel.view === 'singleValue' ? 'stat' : 'timeseries',
    title: panel.title,
    datasource: DATASOURCE,
    gridPos: { h: 6, w: panel.width, x, y },
    ...(panel.overDays ? { timeFrom: `${panel.overDays}d` } : {}),
    fieldConfig: {
      defaults: { unit: unitOf(panel), ...(panel.unit === 'percent' ? { min: 0, max: 100 } : {}) },
      overrides: [],
    },
    options:
      panel.view === 'singleValue'
        ? { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false } }
        : { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi' } },
    targets: panel.queries.map((query, i) => target(query, refIds[i] ?? `Q${i}`, period)),
  };
}

function variables(rows: readonly Row[]): Record<string, unknown>[] {
  const resources = new Map<string, ResourceRef>();
  for (const row of rows)
    for (const panel of row.panels)
      for (const query of panel.queries) {
        if (query.source !== 'aws') continue;
        const variable = resourceVariable(query.resource);
        if (variable) resources.set(variable.name, query.resource);
      }
  const fixed = [
    { name: 'datasource', type: 'datasource', query: 'cloudwatch', label: 'CloudWatch data source' },
    {
      name: 'region',
      type: 'textbox',
      query: 'default',
      label: 'AWS region',
      current: { text: 'default', value: 'default' },
    },
    {
      name: 'stage',
      type: 'custom',
      query: 'prod,staging,dev',
      label: 'Stage',
      current: { text: 'prod', value: 'prod' },
      options: ['prod', 'staging', 'dev'].map((s, i) => ({ text: s, value: s, selected: i === 0 })),
    },
  ];
  const found = [...resources.entries()].map(([name, resource]) => {
    const v = resourceVariable(resource) as ResourceVariable;
    return {
      name,
      type: 'query',
      hide: 2,
      datasource: DATASOURCE,
      refresh: 1,
      query: {
        queryType: 'dimensionValues',
        region: '$region',
        namespace: v.namespace,
        metricName: v.metricName,
        dimensionKey: v.dimension,
        refId: name,
      },
      // Grafana puts the chosen stage in for $stage before it applies the regex.
      regex: `/^AdsEngineer-$stage-${v.constructPrefix}${v.hash}/`,
    };
  });
  return [...fixed, ...found];
}

/** The whole dashboard JSON, as Grafana's import expects it. */
export function grafanaDashboard(rows: readonly Row[] = DASHBOARD_ROWS): Record<string, unknown> {
  const panels: Record<string, unknown>[] = [];
  let id = 1;
  let y = 0;
  for (const row of rows) {
    panels.push({
      id: id++,
      type: 'row',
      title: row.title,
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y },
      panels: [],
    });
    y += 1;
    let x = 0;
    for (const panel of row.panels) {
      if (x + panel.width > 24) {
        x = 0;
        y += 6;
      }
      panels.push(panelJson(panel, id++, x, y));
      x += panel.width;
    }
    y += 6;
  }
  return {
    title: 'AdsEngineer on-call',
    uid: 'adsengineer-on-call',
    tags: ['adsengineer'],
    timezone: 'utc',
    schemaVersion: 39,
    editable: true,
    time: { from: 'now-3h', to: 'now' },
    refresh: '1m',
    templating: { list: variables(rows) },
    panels,
  };
}

/** The committed file: `npm run ops -- dashboards grafana --out docs/grafana/adsengineer.json`. */
export function grafanaDashboardText(): string {
  return `${JSON.stringify(grafanaDashboard(), null, 2)}\n`;
}

/** Every function, queue and table has its variable, so every panel can find its resources. */
export const GRAFANA_RESOURCES = {
  functions: FUNCTIONS.map((f) => `fn_${f.id}`),
  queues: QUEUES.flatMap((q) => [`queue_${q.id}`, `dlq_${q.id}`]),
  tables: TABLES.map((t) => `table_${t.id}`),
} as const;
