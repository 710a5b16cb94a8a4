import { exchangeKey } from './load/tenant';
import { AwsCallRecorder, sequentialRoundTrips } from './support/aws-calls';
import { onApiBench } from './support/local';
import { median } from './support/stats';

/** What one `POST /api/v1/leads` of a batch cost, at one simulated round-trip time. */
export interface LeadsBatchResult {
  rttMs: number;
  leads: number;
  status: number;
  /** Median over the runs, from the request sent to the answer read. */
  ms: number;
  dynamoCalls: number;
  /** Calls on the critical path (calls issued together count once). */
  sequentialRoundTrips: number;
  /** The function's timeout, for scale. */
  timeoutMs: number;
  /** Statuses of the runs, and the errors the function logged for any 5xx. */
  statuses: number[];
  errors: string[];
}

const LEADS_TIMEOUT_MS = 15_000;

function batch(run: string, n: number, size: number): Record<string, unknown>[] {
  return Array.from({ length: size }, (_, i) => ({
    email: `batch-${run}-${n}-${i}@example.com`,
    gclid: `Cj0KCQiA${run}${n}x${i}`.padEnd(60, 'a'),
    utm_source: 'google',
    value: 120,
    currency: 'EUR',
    consent: { status: 'granted', method: 'form_checkbox', timestamp: new Date().toISOString() },
  }));
}

/**
 * `npm run bench -- leads-batch`: a batch of 100 new leads posted to the local stack, timed end to
 * end, with the DynamoDB calls it made and how many of them were on the critical path; at 0 ms
 * and at a simulated in-region round trip per call (the loopback emulator has none).
 */
export async function benchLeadsBatch(
  runs = 3,
  size = 100,
  rtts: readonly number[] = [0, 5],
): Promise<LeadsBatchResult[]> {
  return onApiBench('Leads batch bench', { keepLines: true }, async ({ stack, apiKey, output }) => {
    const token = await exchangeKey(stack.url, apiKey);
    const recorder = new AwsCallRecorder().install();
    const run = Date.now().toString(36);
    const post = (n: number) =>
      fetch(`${stack.url}/api/v1/leads`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(batch(run, n, size)),
      });
    // Warm: the function's module, its caches (signing key, email-hash key, consent policy).
    await (await post(-1)).text();
    const results: LeadsBatchResult[] = [];
    let n = 0;
    for (const rttMs of rtts) {
      recorder.delayMs = rttMs;
      const times: number[] = [];
      const calls: number[] = [];
      const trips: number[] = [];
      let status = 0;
      const statuses: number[] = [];
      const errors: string[] = [];
      for (let i = 0; i < runs; i++) {
        recorder.take();
        output.reset();
        const started = performance.now();
        const res = await post(n++);
        await res.text();
        times.push(performance.now() - started);
        status = res.status;
        statuses.push(res.status);
        if (res.status >= 500) errors.push(...loggedErrors(output.lines));
        const made = recorder.take().filter((c) => c.service === 'dynamodb');
        calls.push(made.length);
        trips.push(sequentialRoundTrips(made));
      }
      results.push({
        rttMs,
        leads: size,
        status,
        ms: median(times),
        dynamoCalls: median(calls),
        sequentialRoundTrips: median(trips),
        timeoutMs: LEADS_TIMEOUT_MS,
        statuses,
        errors: [...new Set(errors)],
      });
    }
    recorder.delayMs = 0;
    return results;
  });
}

/** What the functions logged at ERROR: the error's name and message, nothing else. */
function loggedErrors(lines: readonly string[]): string[] {
  const found: string[] = [];
  for (const line of lines) {
    if (!line.includes('"ERROR"')) continue;
    try {
      const entry = JSON.parse(line) as { message?: string; error?: { name?: string; message?: string } };
      found.push(
        `${entry.message ?? ''}${entry.error ? `: ${entry.error.name} ${entry.error.message ?? ''}` : ''}`.trim(),
      );
    } catch {
      // Not a structured log line.
    }
  }
  return found;
}

export function printLeadsBatch(results: readonly LeadsBatchResult[]): void {
  console.log('rtt ms  leads  status  answer ms  DynamoDB calls  per lead  critical-path calls  of timeout');
  for (const r of results) {
    console.log(
      `${String(r.rttMs).padStart(6)}  ${String(r.leads).padStart(5)}  ${String(r.status).padStart(6)}  ${r.ms
        .toFixed(0)
        .padStart(
          9,
        )}  ${String(r.dynamoCalls).padStart(14)}  ${(r.dynamoCalls / r.leads).toFixed(2).padStart(8)}  ${String(
        r.sequentialRoundTrips,
      ).padStart(
        19,
      )}  ${`${((r.ms / r.timeoutMs) * 100).toFixed(1)} %`.padStart(10)}  statuses ${r.statuses.join(',')}`,
    );
    for (const error of r.errors) console.log(`        5xx: ${error.slice(0, 300)}`);
  }
}
