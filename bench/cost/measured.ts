/**
 * What one event costs in requests, units, bytes and time, as `npm run bench -- units` and
 * `npm run bench -- ingest` measured them (units, calls and bytes on 2026-12-07 on Node 24, after
 * the retention, consent-policy and user-data matching changes; durations on 2026-12-01; moto on
 * loopback on a shared 2-core machine: durations are upper bounds for Lambda in a region). Re-run
 * those benches and update these figures when the hot paths change.
 */
export const MEASURED = {
  ingest: {
    /** The source's rate-limit counter: a verified delivery never counts against its IP. */
    writeUnits: 1,
    readUnits: 0,
    sqsSends: 1,
    logBytes: 0,
    emfBytes: 834,
    /** Warm invocation, p50 with 5 ms per AWS call (bench ingest). */
    durationMs: 40,
  },
  webhookWorker: {
    /** A paid Shopify order with a gclid: dedup claim, lead (with its index items), audit, conversion. */
    writeUnits: 24,
    readUnits: 9.3,
    /** The conversion it queues (paid orders with a click id). */
    sqsSends: 1,
    logBytes: 523,
    emfBytes: 42,
    durationMsPerWebhook: 251,
    batchSize: 10,
  },
  conversionUploader: {
    writeUnits: 3.1,
    readUnits: 2.2,
    logBytes: 174,
    emfBytes: 196,
    /** Per conversion with the local poller's batches of 10; batches of 2,000 in AWS take far less each. */
    durationMsPerConversion: 179,
    /** Conversions per invocation in AWS (event source batches of up to 10,000; requests of 2,000). */
    batchSize: 2_000,
  },
  leadCapture: {
    /** POST /api/v1/leads with one lead: tenant rate-limit counter, dedup lookup, lead and index items, audit. */
    writeUnits: 17,
    readUnits: 2.1,
    logBytes: 0,
    emfBytes: 860,
    durationMs: 148,
  },
  /** Lambda's START, END and REPORT lines, per invocation (not measured here: their usual size). */
  lambdaPlatformLogBytes: 330,
  /** One API Gateway JSON access log line (the stack's format), estimated from the local gateway's. */
  accessLogBytes: 400,
  /** Bytes stored per webhook that became a lead: lead and its index projections, audit, dedup, conversion. */
  storedBytesPerWebhook: 6_000,
} as const;
