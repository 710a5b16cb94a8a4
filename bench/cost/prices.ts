/**
 * AWS list prices the cost model uses, in one place: US East (N. Virginia), on-demand, without
 * free tiers or savings plans, as published on the services' pricing pages and read on
 * 2026-12-01 (sources in docs/cost.md). Change them here and only here.
 */
export const PRICES = {
  region: 'us-east-1',
  readOn: '2026-12-01',
  apiGateway: {
    /** REST API, first 333 million requests a month, per million. */
    restPerMillion: 3.5,
  },
  lambda: {
    /** Arm (Graviton), per million requests. */
    requestsPerMillion: 0.2,
    /** Arm, first 7.5 billion GB-seconds a month. */
    perGbSecond: 0.0000133334,
  },
  sqs: {
    /** Standard queue, per million requests (each 64 KB chunk of a payload is a request). */
    perMillionRequests: 0.4,
  },
  dynamodb: {
    /** On-demand, per million write request units. */
    perMillionWriteUnits: 0.625,
    /** On-demand, per million read request units. */
    perMillionReadUnits: 0.125,
    /** Standard table class, per GB-month stored. */
    storagePerGbMonth: 0.25,
    /** Continuous backups (PITR), per GB-month. */
    pitrPerGbMonth: 0.2,
  },
  kms: {
    /** A customer managed key, per month. */
    keyPerMonth: 1,
    /** Per 10,000 symmetric requests. */
    per10kRequests: 0.03,
  },
  cloudwatch: {
    /** Logs ingestion (standard class), per GB. */
    logsIngestPerGb: 0.5,
    /** Logs storage (archive), per GB-month. */
    logsStoragePerGbMonth: 0.03,
    /** Custom metrics, first 10,000, per metric-month (EMF metrics count as custom metrics). */
    metricPerMonth: 0.3,
    /** Standard-resolution alarm, per alarm metric-month (a metric-math alarm pays for each metric). */
    alarmPerMonth: 0.1,
    /** Composite alarm, per alarm-month. */
    compositeAlarmPerMonth: 0.5,
    /** Dashboard, per month (the free tier's first three are not counted). */
    dashboardPerMonth: 3,
  },
  secretsManager: {
    /** Per secret per month. */
    secretPerMonth: 0.4,
  },
  waf: {
    webAclPerMonth: 5,
    rulePerMonth: 1,
    perMillionRequests: 0.6,
  },
  synthetics: {
    perCanaryRun: 0.0012,
  },
} as const;
