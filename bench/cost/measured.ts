/**
 * What one event costs in requests, units, bytes and time, as `npm run bench -- units` and
 * `npm run bench -- ingest` measured them (units, calls and bytes on 2026-12-07 on Node 24, after
 * the retention, consent-policy and user-data matching changes; write units counted from each
 * write's item before and after, by the index rules of bench/support/dynamo-units.ts; durations:
 * the ingest bench's p50 with 5 ms per AWS call, and the units bench's time per event plus 5 ms
 * for each of its AWS calls, the in-region round trip loopback does not have; moto on loopback on
 * a shared 2-core machine, so durations are upper bounds for Lambda in a region). Re-run
 * those benches and update these figures when the hot paths change.
 */
export const MEASURED = {
  ingest: {
    /** The source's rate-limit counter: a verified delivery never counts against its IP. */
    writeUnits: 1,
    readUnits: 0,
    /** A source read again when its 5-minute cache entry has expired (one strongly consistent Query). */
    sourceReadUnits: 1,
    sqsSends: 1,
    logBytes: 0,
    emfBytes: 834,
    /** Warm invocation, p50 with 5 ms per AWS call (bench ingest). */
    durationMs: 40,
  },
  webhookWorker: {
    /**
     * A paid Shopify order with a gclid: the lead's two uniqueness items, the lead and the
     * conversion with their status index entries, the audit record and its index entry, the
     * handled-delivery record.
     */
    writeUnits: 9,
    readUnits: 9.5,
    /** The conversion it queues (paid orders with a click id). */
    sqsSends: 1,
    logBytes: 523,
    emfBytes: 42,
    /** 72 ms per webhook in batches of 10, and 16 AWS calls. */
    durationMsPerWebhook: 152,
    batchSize: 10,
  },
  conversionUploader: {
    /**
     * The conversion's write as uploaded, which takes it out of the status index (one delete of
     * its entry), and the upload request's record (one per ten conversions in the bench's
     * batches; far fewer per conversion in AWS's).
     */
    writeUnits: 2.1,
    readUnits: 2.2,
    logBytes: 174,
    emfBytes: 196,
    /** Per conversion with the local poller's batches of 10; batches of 2,000 in AWS take far less each. */
    /** 30 ms per conversion in batches of 10, and about 4.4 AWS calls. */
    durationMsPerConversion: 52,
    /** Conversions per invocation in AWS (event source batches of up to 10,000; requests of 2,000). */
    batchSize: 2_000,
  },
  leadCapture: {
    /** POST /api/v1/leads with one lead: tenant rate-limit counter, uniqueness item, lead and index entry, audit. */
    writeUnits: 6,
    readUnits: 2,
    logBytes: 0,
    emfBytes: 860,
    /** 31 ms per request through the local gateway, and 6 AWS calls. */
    durationMs: 61,
  },
  /** Lambda's START, END and REPORT lines, per invocation (not measured here: their usual size). */
  lambdaPlatformLogBytes: 330,
  /** One API Gateway JSON access log line (the stack's format), estimated from the local gateway's. */
  accessLogBytes: 400,
  /**
   * Bytes billed as stored per webhook through the pipeline (bench units: every table scanned
   * before and after, items and index entries with their 100 bytes of overhead): the lead, its
   * status entry and keys, the conversion and its entry, the audit entry and its entry, the
   * handled-delivery record.
   */
  storedBytesPerWebhook: 4_980,
} as const;
