import { functionDefinition } from '../../lib/definitions/resources';
import { MEASURED } from './measured';
import { PRICES } from './prices';

export interface Volume {
  /** Webhook deliveries a month (each a paid order with a click id: the costliest kind). */
  webhooks: number;
  /** Leads captured through the API a month, one per request. */
  leads: number;
  /** Conversions uploaded a month. */
  conversions: number;
  /** Distinct webhook sources (shops, stores, locations): their secrets are opened with KMS. */
  sources: number;
  /** Warm ingest containers at a time, each re-opening a source's secret every 5 minutes. */
  ingestContainers: number;
}

export const DEFAULT_VOLUME: Volume = {
  webhooks: 1_000_000,
  leads: 100_000,
  conversions: 100_000,
  sources: 100,
  ingestContainers: 4,
};

/** What is fixed by the deployment whatever the volume. */
export const FIXED = {
  kmsKeys: 2,
  /** Custom metrics (name × dimension set) the functions emit, and alarms on them. */
  customMetrics: 30,
  alarms: 30,
  wafRules: 6,
  /** One canary calling /health every 5 minutes. */
  canaryRunsPerMonth: (30 * 24 * 60) / 5,
  /** Queues with an event source: its pollers long-poll even when idle (about 3 receives a minute each, 5 pollers). */
  idlePollsPerQueuePerMonth: 5 * 3 * 60 * 24 * 30,
  queuesWithConsumers: 3,
  /** SQS and DynamoDB ask KMS for a data key about every 5 minutes per queue or table and principal. */
  kmsServiceRequestsPerMonth: (3 * 2 + 7) * 12 * 24 * 30,
  secondsPerMonth: 30 * 24 * 3600,
} as const;

export interface Line {
  service: string;
  item: string;
  quantity: number;
  unit: string;
  usd: number;
}

const GB = 1024 ** 3;

function gbSeconds(memoryMb: number, ms: number, count: number): number {
  return (memoryMb / 1024) * (ms / 1000) * count;
}

/** Monthly cost per service and item, at the list prices of PRICES and the figures of MEASURED. */
export function monthlyCost(volume: Volume): Line[] {
  const { webhooks, leads, conversions } = volume;
  const lines: Line[] = [];
  const add = (service: string, item: string, quantity: number, unit: string, usd: number) =>
    lines.push({ service, item, quantity, unit, usd });

  // API Gateway: every webhook and every lead capture is one REST request.
  const apiRequests = webhooks + leads;
  add(
    'API Gateway',
    'REST requests',
    apiRequests,
    'requests',
    (apiRequests / 1e6) * PRICES.apiGateway.restPerMillion,
  );

  // Lambda: invocations and GB-seconds from measured durations and configured memory.
  const workerInvocations = Math.ceil(webhooks / MEASURED.webhookWorker.batchSize);
  const uploaderInvocations = Math.ceil(conversions / MEASURED.conversionUploader.batchSize);
  const invocations = webhooks + workerInvocations + uploaderInvocations + leads;
  add(
    'Lambda',
    'requests',
    invocations,
    'invocations',
    (invocations / 1e6) * PRICES.lambda.requestsPerMillion,
  );
  const compute: Array<[string, number]> = [
    ['ingest', gbSeconds(functionDefinition('ingest').memoryMb, MEASURED.ingest.durationMs, webhooks)],
    [
      'webhook worker',
      gbSeconds(
        functionDefinition('webhookWorker').memoryMb,
        MEASURED.webhookWorker.durationMsPerWebhook,
        webhooks,
      ),
    ],
    [
      'conversion uploader',
      gbSeconds(
        functionDefinition('conversionUploader').memoryMb,
        MEASURED.conversionUploader.durationMsPerConversion,
        conversions,
      ),
    ],
    ['leads', gbSeconds(functionDefinition('leads').memoryMb, MEASURED.leadCapture.durationMs, leads)],
  ];
  for (const [fn, gbs] of compute) {
    add('Lambda', `${fn} compute`, gbs, 'GB-s', gbs * PRICES.lambda.perGbSecond);
  }

  // SQS: each send, and the event sources' receives and deletes (10 messages each), plus idle polls.
  const sends = webhooks * (MEASURED.ingest.sqsSends + MEASURED.webhookWorker.sqsSends) + leads * 0;
  const consumed = webhooks + conversions;
  const sqsRequests =
    sends + (consumed / 10) * 2 + FIXED.idlePollsPerQueuePerMonth * FIXED.queuesWithConsumers;
  add(
    'SQS',
    'send, receive, delete, idle long polls',
    sqsRequests,
    'requests',
    (sqsRequests / 1e6) * PRICES.sqs.perMillionRequests,
  );

  // DynamoDB: request units counted per operation by the instrumented client.
  const wru =
    webhooks * (MEASURED.ingest.writeUnits + MEASURED.webhookWorker.writeUnits) +
    conversions * MEASURED.conversionUploader.writeUnits +
    leads * MEASURED.leadCapture.writeUnits;
  const rru =
    webhooks * (MEASURED.ingest.readUnits + MEASURED.webhookWorker.readUnits) +
    conversions * MEASURED.conversionUploader.readUnits +
    leads * MEASURED.leadCapture.readUnits;
  add('DynamoDB', 'write request units', wru, 'WRU', (wru / 1e6) * PRICES.dynamodb.perMillionWriteUnits);
  add('DynamoDB', 'read request units', rru, 'RRU', (rru / 1e6) * PRICES.dynamodb.perMillionReadUnits);
  const storedGb = ((webhooks + leads) * MEASURED.storedBytesPerWebhook) / GB;
  add(
    'DynamoDB',
    'storage and PITR of a month of new items',
    storedGb,
    'GB-month',
    storedGb * (PRICES.dynamodb.storagePerGbMonth + PRICES.dynamodb.pitrPerGbMonth),
  );

  // KMS: the keys, the services' data keys, and ingest re-opening source secrets every 5 minutes.
  add('KMS', 'customer managed keys', FIXED.kmsKeys, 'keys', FIXED.kmsKeys * PRICES.kms.keyPerMonth);
  const sourceOpens = Math.min(webhooks, volume.sources * volume.ingestContainers * 12 * 24 * 30);
  const kmsRequests = FIXED.kmsServiceRequestsPerMonth + sourceOpens;
  add('KMS', 'requests', kmsRequests, 'requests', (kmsRequests / 1e4) * PRICES.kms.per10kRequests);

  // CloudWatch: log bytes measured per event (EMF included), platform and access log lines.
  const logBytes =
    webhooks *
      (MEASURED.ingest.logBytes +
        MEASURED.ingest.emfBytes +
        MEASURED.webhookWorker.logBytes +
        MEASURED.webhookWorker.emfBytes +
        MEASURED.accessLogBytes) +
    conversions * (MEASURED.conversionUploader.logBytes + MEASURED.conversionUploader.emfBytes) +
    leads * (MEASURED.leadCapture.logBytes + MEASURED.leadCapture.emfBytes + MEASURED.accessLogBytes) +
    invocations * MEASURED.lambdaPlatformLogBytes;
  const logGb = logBytes / GB;
  add('CloudWatch', 'logs ingested', logGb, 'GB', logGb * PRICES.cloudwatch.logsIngestPerGb);
  add(
    'CloudWatch',
    'logs stored (one month)',
    logGb,
    'GB-month',
    logGb * PRICES.cloudwatch.logsStoragePerGbMonth,
  );
  add(
    'CloudWatch',
    'custom metrics',
    FIXED.customMetrics,
    'metrics',
    FIXED.customMetrics * PRICES.cloudwatch.metricPerMonth,
  );
  add('CloudWatch', 'alarms', FIXED.alarms, 'alarms', FIXED.alarms * PRICES.cloudwatch.alarmPerMonth);

  // WAF in front of the stage: every API request is inspected.
  add(
    'WAF',
    'web ACL and rules',
    1 + FIXED.wafRules,
    'ACL + rules',
    PRICES.waf.webAclPerMonth + FIXED.wafRules * PRICES.waf.rulePerMonth,
  );
  add(
    'WAF',
    'requests inspected',
    apiRequests,
    'requests',
    (apiRequests / 1e6) * PRICES.waf.perMillionRequests,
  );

  add(
    'Synthetics',
    'canary runs',
    FIXED.canaryRunsPerMonth,
    'runs',
    FIXED.canaryRunsPerMonth * PRICES.synthetics.perCanaryRun,
  );
  return lines;
}

export function byService(lines: readonly Line[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of lines) out[line.service] = (out[line.service] ?? 0) + line.usd;
  return out;
}

export function total(lines: readonly Line[]): number {
  return lines.reduce((n, l) => n + l.usd, 0);
}

const compact = (n: number) =>
  n >= 1e6
    ? `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)} M`
    : n >= 1e3
      ? `${(n / 1e3).toFixed(1)} k`
      : n.toFixed(n < 10 ? 2 : 0);

export function formatCost(volume: Volume, lines: readonly Line[]): string {
  const out = [
    `Monthly cost at AWS list prices (${PRICES.region}, read ${PRICES.readOn}; no free tier):`,
    `  ${compact(volume.webhooks)} webhooks, ${compact(volume.leads)} API leads, ${compact(volume.conversions)} conversions, ${volume.sources} sources`,
    '',
    'service      item                                          quantity           USD',
  ];
  for (const l of lines) {
    out.push(
      `${l.service.padEnd(12)} ${l.item.padEnd(44)} ${`${compact(l.quantity)} ${l.unit}`.padStart(20)} ${l.usd.toFixed(2).padStart(10)}`,
    );
  }
  out.push('', 'per service:');
  for (const [service, usd] of Object.entries(byService(lines))) {
    out.push(`  ${service.padEnd(12)} ${usd.toFixed(2).padStart(10)}`);
  }
  const sum = total(lines);
  out.push(`  ${'total'.padEnd(12)} ${sum.toFixed(2).padStart(10)}`);
  if (volume.webhooks > 0)
    out.push(`  per 1,000 webhooks (all-in): ${((sum / volume.webhooks) * 1000).toFixed(3)} USD`);
  return out.join('\n');
}
