import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  DIMENSION_VALUES,
  EMITTED_METRICS,
  METRICS,
  routeGroupOf,
  statusClassOf,
} from '../../contract/metrics';
import { ROUTES } from '../../contract/routes';
import {
  correlationAttributes,
  dimensionValue,
  emitMetric,
  logger,
  metrics,
  metricsLog,
  withCorrelation,
} from '../../functions/shared/platform/observability';
import { captureSingleMetrics } from '../support/metrics';

const ROOT = path.resolve(__dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? sources(full) : full.endsWith('.ts') ? [full] : [];
  });
}

/** Splits a call's argument text at its top-level separators (outside brackets and strings). */
function splitTopLevel(text: string, separators: RegExp): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (char === "'" || char === '"' || char === '`') {
      i = text.indexOf(char, i + 1);
      if (i < 0) break;
    } else if ('([{'.includes(char)) depth += 1;
    else if (')]}'.includes(char)) depth -= 1;
    else if (depth === 0) {
      const match = separators.exec(text.slice(i));
      if (match?.index === 0) {
        parts.push(text.slice(start, i));
        i += match[0].length - 1;
        start = i + 1;
      }
    }
  }
  parts.push(text.slice(start));
  return parts.map((part) => part.trim()).filter((part) => part !== '');
}

/** The arguments of the call whose opening parenthesis is at `open`. */
function callArguments(code: string, open: number): string[] {
  let depth = 0;
  for (let i = open; i < code.length; i++) {
    const char = code[i] as string;
    if (char === "'" || char === '"' || char === '`') i = code.indexOf(char, i + 1);
    else if ('([{'.includes(char)) depth += 1;
    else if (')]}'.includes(char) && --depth === 0) return splitTopLevel(code.slice(open + 1, i), /^,/);
  }
  return [];
}

interface MetricCall {
  /** String or template literals the metric name may be. */
  literals: string[];
  /** Catalogue keys (`METRICS.<key>`) the metric name may be. */
  names: string[];
  /** The unit the call gives, when it names one. */
  unit?: string;
}

/**
 * Every `addMetric(name, unit, value)` and `emitMetric(name, value)` call of a source, with what its
 * name may evaluate to: each branch of a conditional or a fallback, never its condition.
 */
function metricCalls(code: string): MetricCall[] {
  const calls: MetricCall[] = [];
  for (const match of code.matchAll(/(?<!function )\b(addMetric|emitMetric)\(/g)) {
    const [name = '', unit] = callArguments(code, (match.index ?? 0) + match[0].length - 1);
    const afterCondition = splitTopLevel(name, /^\?(?![?.])/).slice(name.includes('?') ? 1 : 0);
    const values = afterCondition.flatMap((part) => splitTopLevel(part, /^(?:\?\?|\|\||:)/));
    calls.push({
      literals: values.filter((value) => /^['"`]/.test(value)),
      names: values.flatMap((value) => /^METRICS\.(\w+)$/.exec(value)?.[1] ?? []),
      ...(match[1] === 'addMetric' && unit && /^(?:'\w+'|MetricUnit\.\w+)$/.test(unit)
        ? { unit: unit.replace(/^MetricUnit\./, '').replace(/'/g, '') }
        : {}),
    });
  }
  return calls;
}

describe('route groups', () => {
  it('put every route of the route table in a named group', () => {
    for (const route of ROUTES)
      expect({ path: route.path, group: routeGroupOf(route.path) }).not.toEqual({
        path: route.path,
        group: 'other',
      });
  });

  it('group webhooks by template, never by a raw path holding a token', () => {
    expect(routeGroupOf('/api/v1/ghl/webhook/{webhookToken}')).toBe('webhooks');
    expect(routeGroupOf('/api/v1/billing/webhooks/stripe')).toBe('webhooks');
    expect(routeGroupOf('/api/v1/billing')).toBe('billing');
    expect(routeGroupOf('/nope')).toBe('other');
  });

  it('class statuses', () => {
    expect([200, 202, 302, 404, 429, 500, 503].map(statusClassOf)).toEqual([
      '2xx',
      '2xx',
      '3xx',
      '4xx',
      '4xx',
      '5xx',
      '5xx',
    ]);
  });
});

describe('emitted metrics', () => {
  it('are each emitted somewhere in the functions, by their constant', () => {
    const code = sources(path.join(ROOT, 'functions'))
      .map((file) => readFileSync(file, 'utf8'))
      .join('\n');
    const keyOf = Object.fromEntries(Object.entries(METRICS).map(([key, name]) => [name, key]));
    for (const metric of EMITTED_METRICS) {
      const emitted = code.includes(`METRICS.${keyOf[metric.name]}`);
      expect({ metric: metric.name, emitted }).toEqual({ metric: metric.name, emitted: true });
    }
  });

  it('list every name of the catalogue once', () => {
    const listed = EMITTED_METRICS.map((m) => m.name);
    expect(new Set(listed).size).toBe(listed.length);
    expect([...listed].sort()).toEqual([...Object.values(METRICS)].sort());
  });

  it('recognise a metric named by a string, and the unit a call gives', () => {
    const calls = metricCalls(
      [
        "metrics.addMetric('LeadsStored', 'Count', 1);",
        'single.addMetric(`UploadLatency`, MetricUnit.Count, n);',
        "emitMetric(ok === 'yes' ? METRICS.webhookProcessed : 'WebhookIgnored', 1);",
        'metric.addMetric(\n  METRICS.uploadLatency,\n  MetricUnit.Milliseconds,\n  f(a, b),\n);',
        'export function emitMetric(name: MetricName, value: number) {}',
      ].join('\n'),
    );
    expect(calls.map((call) => ({ literals: call.literals, names: call.names, unit: call.unit }))).toEqual([
      { literals: ["'LeadsStored'"], names: [], unit: 'Count' },
      { literals: ['`UploadLatency`'], names: [], unit: 'Count' },
      { literals: ["'WebhookIgnored'"], names: ['webhookProcessed'], unit: undefined },
      { literals: [], names: ['uploadLatency'], unit: 'Milliseconds' },
    ]);
  });

  it('are named from the catalogue everywhere under functions/, never by a string, with its unit', () => {
    const found = sources(path.join(ROOT, 'functions')).flatMap((file) =>
      metricCalls(readFileSync(file, 'utf8')).map((call) => ({ ...call, file: path.relative(ROOT, file) })),
    );
    expect(found.length).toBeGreaterThan(20);
    expect(found.filter((call) => call.literals.length > 0).map((c) => `${c.file}: ${c.literals}`)).toEqual(
      [],
    );
    const wrongUnits = found.flatMap((call) =>
      call.unit === undefined
        ? []
        : call.names
            .map((key) => EMITTED_METRICS.find((m) => m.name === METRICS[key as keyof typeof METRICS]))
            .filter((metric) => metric?.unit !== call.unit)
            .map((metric) => `${call.file}: ${metric?.name ?? call.names} in ${call.unit}`),
    );
    expect(wrongUnits).toEqual([]);
  });

  it('use only dimensions with a closed set of values, none of them a tenant or a person', () => {
    for (const metric of EMITTED_METRICS) {
      for (const dimension of metric.dimensions) expect(Object.keys(DIMENSION_VALUES)).toContain(dimension);
    }
    for (const values of Object.values(DIMENSION_VALUES)) expect(values.length).toBeLessThanOrEqual(12);
    for (const name of Object.keys(DIMENSION_VALUES))
      expect(name).not.toMatch(/^(tenant|email|user|ip|key|id)|_id$/i);
  });

  it('map a value outside its set to other, so a tenant id can never become a dimension', () => {
    expect(dimensionValue('sender', 'shopify')).toBe('shopify');
    expect(dimensionValue('sender', 'ten_01JABCDEF')).toBe('other');
    expect(dimensionValue('platform', 'jane@example.com')).toBe('other');
  });

  it('emit dimensioned metrics on their own line with only their declared dimensions', () => {
    const { emitted: lines, spy } = captureSingleMetrics();
    const batchedCalls: unknown[][] = [];
    const batched = jest.spyOn(metrics, 'addMetric').mockImplementation((...args) => {
      batchedCalls.push(args);
      return metrics;
    });
    try {
      emitMetric(METRICS.apiRequests, 1, { route_group: 'leads', status_class: '5xx' });
      emitMetric(METRICS.webhookAccepted, 1, { sender: 'ten_123', route_group: 'leads' });
      emitMetric(METRICS.leadsStored, 3);
    } finally {
      spy.mockRestore();
      batched.mockRestore();
    }
    expect(lines).toEqual([
      { name: 'ApiRequests', value: 1, dimensions: { route_group: 'leads', status_class: '5xx' } },
      { name: 'WebhookAccepted', value: 1, dimensions: { sender: 'other' } },
    ]);
    expect(batchedCalls).toEqual([['LeadsStored', 'Count', 3]]);
  });
});

describe('correlation', () => {
  it('carries the request id into queued messages while a request is handled, and nothing otherwise', async () => {
    expect(correlationAttributes()).toEqual({});
    const inside = await withCorrelation('req-123', async () => {
      await new Promise((r) => setTimeout(r, 1));
      return correlationAttributes();
    });
    expect(inside).toEqual({ request_id: { DataType: 'String', StringValue: 'req-123' } });
    expect(withCorrelation(undefined, () => correlationAttributes())).toEqual({});
  });
});

describe("the metrics emitter's own messages", () => {
  afterEach(() => jest.restoreAllMocks());

  it('keep an empty batch at DEBUG: most invocations emit only dimensioned metrics, on their own lines', () => {
    const warn = jest.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const debug = jest.spyOn(logger, 'debug').mockImplementation(() => undefined);
    // Prepare: nothing batched. Act: what the middleware does at the end of an invocation.
    metrics.publishStoredMetrics();
    // Assess
    expect(warn).not.toHaveBeenCalled();
    expect(debug).toHaveBeenCalledWith(expect.stringContaining('No application metrics to publish'));
  });

  it("pass any other warning, information and error to the function's logger at its level", () => {
    const warn = jest.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const info = jest.spyOn(logger, 'info').mockImplementation(() => undefined);
    const error = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    const debug = jest.spyOn(logger, 'debug').mockImplementation(() => undefined);
    metricsLog.warn('Dimension limit reached', 30);
    metricsLog.info('flushed');
    metricsLog.error('cannot serialize');
    metricsLog.debug('detail');
    expect(warn).toHaveBeenCalledWith('Dimension limit reached 30');
    expect(info).toHaveBeenCalledWith('flushed');
    expect(error).toHaveBeenCalledWith('cannot serialize');
    expect(debug).toHaveBeenCalledWith('detail');
  });
});
