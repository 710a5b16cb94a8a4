import { AsyncLocalStorage } from 'node:async_hooks';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  DIMENSION_VALUES,
  type DimensionName,
  emittedMetric,
  METRIC_NAMESPACE,
  type MetricName,
  SERVICE_NAME,
} from '../../../contract/metrics';

/** One logger and one metrics emitter per function, as Powertools recommends. */
export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME,
  persistentKeys: { stage: process.env.STAGE ?? 'dev' },
});

/**
 * What the metrics emitter says about itself goes through the function's logger. Its warning that
 * an invocation's batch is empty is expected, not a problem: dimensioned metrics go out as their
 * own EMF lines (emitMetric), so most invocations end with nothing batched. At WARN it would be a
 * log line on every request, paid for and read by nobody; it is kept at DEBUG.
 */
const EMPTY_BATCH_WARNING = 'No application metrics to publish';
const text = (content: unknown[]): string => content.map(String).join(' ');
export const metricsLog = {
  debug: (...content: unknown[]) => logger.debug(text(content)),
  info: (...content: unknown[]) => logger.info(text(content)),
  warn: (...content: unknown[]) => {
    const message = text(content);
    if (message.startsWith(EMPTY_BATCH_WARNING)) logger.debug(message);
    else logger.warn(message);
  },
  error: (...content: unknown[]) => logger.error(text(content)),
};

export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRIC_NAMESPACE,
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME,
  defaultDimensions: { stage: process.env.STAGE ?? 'dev' },
  logger: metricsLog,
});

/** A dimension value from its closed set (contract/metrics.ts), else `other`. */
export function dimensionValue(name: DimensionName, value: string): string {
  return (DIMENSION_VALUES[name] as readonly string[]).includes(value) ? value : 'other';
}

/**
 * Emits one value of a catalogued metric with its declared dimensions. Metrics without extra
 * dimensions join the invocation's batch; dimensioned ones go out as their own EMF line, so the
 * dimensions of one never leak onto another. Values outside a dimension's set become `other`.
 */
export function emitMetric(
  name: MetricName,
  value: number,
  dimensions: Partial<Record<DimensionName, string>> = {},
): void {
  const definition = emittedMetric(name);
  const unit = {
    Count: MetricUnit.Count,
    Milliseconds: MetricUnit.Milliseconds,
    Seconds: MetricUnit.Seconds,
    Bytes: MetricUnit.Bytes,
  }[definition.unit];
  if (definition.dimensions.length === 0) {
    metrics.addMetric(name, unit, value);
    return;
  }
  const single = metrics.singleMetric();
  for (const dimension of definition.dimensions) {
    single.addDimension(dimension, dimensionValue(dimension, dimensions[dimension] ?? 'other'));
  }
  single.addMetric(name, unit, value);
}

/**
 * Correlation: the API request id that started a piece of work travels with every queued message
 * it causes (message attribute `request_id`), so one lead's path through ingest, worker and
 * uploader can be followed in the logs by that id.
 */
const correlation = new AsyncLocalStorage<string>();
export const CORRELATION_ATTRIBUTE = 'request_id';

export function withCorrelation<T>(requestId: string | undefined, run: () => T): T {
  return requestId ? correlation.run(requestId, run) : run();
}

export function correlationId(): string | undefined {
  return correlation.getStore();
}

/** SQS message attributes carrying the current request id, if any. */
export function correlationAttributes(): Record<string, { DataType: 'String'; StringValue: string }> {
  const id = correlationId();
  return id ? { [CORRELATION_ATTRIBUTE]: { DataType: 'String', StringValue: id } } : {};
}
