import { functionDefinition } from '../../contract/resources';
import type { FixedResources } from './fixed';
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

/**
 * Assumptions that no template or benchmark can state: how often idle pollers and the services'
 * data-key caches call SQS and KMS. Everything else fixed comes from the synthesized stack
 * (bench/cost/fixed.ts).
 */
export const ASSUMED = {
  /** Event source pollers long-poll even when idle: about 3 receives a minute each, 5 pollers a queue. */
  idlePollsPerQueuePerMonth: 5 * 3 * 60 * 24 * 30,
  /** SQS and DynamoDB ask KMS for a data key about every 5 minutes per queue (2 principals) or table. */
  kmsDataKeyRequestsPerResourcePerMonth: 12 * 24 * 30,
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
export function monthlyCost(volume: Volume, fixed: FixedResources): Line[] {
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
    sends + (consumed / 10) * 2 + ASSUMED.idlePollsPerQueuePerMonth * fixed.queuesWithConsumers;
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
  const sourceReads = Math.min(webhooks, volume.sources * volume.ingestContainers * 12 * 24 * 30);
  const rru =
    sourceReads * MEASURED.ingest.sourceReadUnits +
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
  add('KMS', 'customer managed keys', fixed.kmsKeys, 'keys', fixed.kmsKeys * PRICES.kms.keyPerMonth);
  // A warm ingest container reads a source again every 5 minutes, and opens its secret with KMS
  // only when the sealed value is new to it or an hour old.
  const sourceOpens = Math.min(webhooks, volume.sources * volume.ingestContainers * 24 * 30);
  const kmsRequests =
    (fixed.queuesWithConsumers * 2 + fixed.tables) * ASSUMED.kmsDataKeyRequestsPerResourcePerMonth +
    sourceOpens;
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
  // Stored at steady state: a month's logs times the months they are kept, access logs (one line
  // per API request) for their own retention.
  const accessLogGb = ((webhooks + leads) * MEASURED.accessLogBytes) / GB;
  const storedLogGb =
    (logGb - accessLogGb) * (fixed.logRetentionDays / 30) + accessLogGb * (fixed.accessLogRetentionDays / 30);
  add(
    'CloudWatch',
    `logs stored (${fixed.logRetentionDays} d, access ${fixed.accessLogRetentionDays} d)`,
    storedLogGb,
    'GB-month',
    storedLogGb * PRICES.cloudwatch.logsStoragePerGbMonth,
  );
  add(
    'CloudWatch',
    'custom metrics (at most)',
    fixed.customMetrics,
    'metrics',
    fixed.customMetrics * PRICES.cloudwatch.metricPerMonth,
  );
  add(
    'CloudWatch',
    `metric alarms (${fixed.alarms})`,
    fixed.alarmMetrics,
    'alarm metrics',
    fixed.alarmMetrics * PRICES.cloudwatch.alarmPerMonth,
  );
  add(
    'CloudWatch',
    'composite alarms',
    fixed.compositeAlarms,
    'alarms',
    fixed.compositeAlarms * PRICES.cloudwatch.compositeAlarmPerMonth,
  );
  add(
    'CloudWatch',
    'dashboards',
    fixed.dashboards,
    'dashboards',
    fixed.dashboards * PRICES.cloudwatch.dashboardPerMonth,
  );

  // WAF in front of the stage: every API request is inspected.
  add(
    'WAF',
    'web ACL and rules',
    fixed.webAcls + fixed.wafRules,
    'ACL + rules',
    fixed.webAcls * PRICES.waf.webAclPerMonth + fixed.wafRules * PRICES.waf.rulePerMonth,
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
    fixed.canaryRunsPerMonth,
    'runs',
    fixed.canaryRunsPerMonth * PRICES.synthetics.perCanaryRun,
  );

  add(
    'Secrets Manager',
    'secrets',
    fixed.secrets,
    'secrets',
    fixed.secrets * PRICES.secretsManager.secretPerMonth,
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

/** The cost of the deployment with no traffic at all: what the stack costs by being there. */
export function fixedCost(fixed: FixedResources, volume: Volume = DEFAULT_VOLUME): number {
  return total(monthlyCost({ ...volume, webhooks: 0, leads: 0, conversions: 0 }, fixed));
}

/**
 * What a paid order arriving by webhook costs at the least in this architecture (API Gateway REST
 * and WAF in front, Lambda, SQS, DynamoDB), per million webhooks: the requests no design of it can
 * avoid, and the three writes of what it must keep (the lead, its conversion, the consent audit
 * entry), each under 1 KB. Compute, storage and reads are left out, so it is a floor.
 */
export function floorPerMillionWebhooks(): Line[] {
  const million = 1e6;
  const sqsRequests = million * 2 * (1 + 2 / 10);
  const invocations = million * (1 + 1 / 10);
  const writes = million * 3;
  const logBytes = million * (MEASURED.accessLogBytes + 1.1 * MEASURED.lambdaPlatformLogBytes);
  return [
    {
      service: 'API Gateway',
      item: 'REST request',
      quantity: million,
      unit: 'requests',
      usd: PRICES.apiGateway.restPerMillion,
    },
    {
      service: 'WAF',
      item: 'request inspected',
      quantity: million,
      unit: 'requests',
      usd: PRICES.waf.perMillionRequests,
    },
    {
      service: 'Lambda',
      item: 'ingest, and the worker in batches of 10',
      quantity: invocations,
      unit: 'invocations',
      usd: (invocations / million) * PRICES.lambda.requestsPerMillion,
    },
    {
      service: 'SQS',
      item: 'webhook and conversion: send, batched receive and delete',
      quantity: sqsRequests,
      unit: 'requests',
      usd: (sqsRequests / million) * PRICES.sqs.perMillionRequests,
    },
    {
      service: 'DynamoDB',
      item: 'lead, conversion and audit entry, 1 WRU each',
      quantity: writes,
      unit: 'WRU',
      usd: (writes / million) * PRICES.dynamodb.perMillionWriteUnits,
    },
    {
      service: 'CloudWatch',
      item: "access log line and Lambda's own lines",
      quantity: logBytes / GB,
      unit: 'GB',
      usd: (logBytes / GB) * PRICES.cloudwatch.logsIngestPerGb,
    },
  ];
}

/** The variable cost of a million webhooks (paid orders with a click id): all but the fixed part. */
export function variablePerMillionWebhooks(fixed: FixedResources, volume: Volume = DEFAULT_VOLUME): number {
  const none = { ...volume, webhooks: 0, leads: 0, conversions: 0 };
  return total(monthlyCost({ ...none, webhooks: 1e6 }, fixed)) - total(monthlyCost(none, fixed));
}

export function formatCost(
  volume: Volume,
  lines: readonly Line[],
  fixed: FixedResources,
  stage: string,
): string {
  const out = [
    `Monthly cost at AWS list prices (${PRICES.region}, read ${PRICES.readOn}; no free tier):`,
    `  ${compact(volume.webhooks)} webhooks, ${compact(volume.leads)} API leads, ${compact(volume.conversions)} conversions, ${volume.sources} sources`,
    `  the synthesized ${stage} stack: ${fixed.alarms} metric alarms (${fixed.alarmMetrics} metrics), ${fixed.compositeAlarms} composite alarms, ${fixed.dashboards} dashboard(s),`,
    `  ${fixed.kmsKeys} KMS key(s), ${fixed.secrets} secrets, ${fixed.webAcls} web ACL(s) with ${fixed.wafRules} rules, ${fixed.canaries} canary (${compact(fixed.canaryRunsPerMonth)} runs),`,
    `  ${fixed.tables} tables, ${fixed.queuesWithConsumers} consumed queues, logs kept ${fixed.logRetentionDays} days (access logs ${fixed.accessLogRetentionDays}), at most ${fixed.customMetrics} custom metrics`,
    '',
    'service         item                                          quantity           USD',
  ];
  for (const l of lines) {
    out.push(
      `${l.service.padEnd(15)} ${l.item.padEnd(44)} ${`${compact(l.quantity)} ${l.unit}`.padStart(20)} ${l.usd.toFixed(2).padStart(10)}`,
    );
  }
  out.push('', 'per service:');
  for (const [service, usd] of Object.entries(byService(lines))) {
    out.push(`  ${service.padEnd(15)} ${usd.toFixed(2).padStart(10)}`);
  }
  const sum = total(lines);
  out.push(`  ${'total'.padEnd(15)} ${sum.toFixed(2).padStart(10)}`);
  out.push(`  of which fixed (the same with no traffic): ${fixedCost(fixed, volume).toFixed(2)} USD`);
  if (volume.webhooks > 0)
    out.push(`  per 1,000 webhooks (all-in): ${((sum / volume.webhooks) * 1000).toFixed(3)} USD`);
  const floor = floorPerMillionWebhooks();
  out.push(
    '',
    `per million webhooks, variable: ${variablePerMillionWebhooks(fixed, volume).toFixed(2)} USD; the floor of this architecture: ${total(floor).toFixed(2)} USD`,
  );
  for (const l of floor) {
    out.push(
      `  floor: ${l.service.padEnd(12)} ${l.item.padEnd(57)} ${`${compact(l.quantity)} ${l.unit}`.padStart(18)} ${l.usd.toFixed(2).padStart(7)}`,
    );
  }
  return out.join('\n');
}
