import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { percentile } from '../support/stats';
import { type CallResult, callJson, type LoadTenant } from './tenant';
import { gclidFor, ghlContact, type SignedRequest, shopifyOrder, stripeEvent, wooOrder } from './webhooks';

export interface LoadOptions {
  /** Seconds each scenario runs at most. */
  durationSeconds: number;
  /** Requests per second over all scenarios together, shared by their weights. */
  rate: number;
  /** Requests over all scenarios at most. */
  maxRequests: number;
  /** Connections per scenario. */
  connections: number;
  /** End-to-end samples of each kind (webhook → lead, won → uploaded). */
  probes: number;
  /** Seconds an end-to-end sample may take before it counts as timed out. */
  probeTimeoutSeconds: number;
  log: (line: string) => void;
}

export const DEFAULT_LOAD: Omit<LoadOptions, 'log'> = {
  durationSeconds: 20,
  rate: 12,
  maxRequests: 2_000,
  connections: 2,
  probes: 5,
  probeTimeoutSeconds: 20,
};

/** Hard bounds a flag cannot exceed: the run always stops by itself. */
export const LOAD_LIMITS = { durationSeconds: 600, rate: 2_000, maxRequests: 1_000_000, connections: 50 };

export interface LoadTargets {
  /** The tenant that takes the load. */
  main: LoadTenant;
  apiKey: string;
  tenantId?: string;
  /** Samples end-to-end latency; a tenant of its own locally, so its leads are easy to find. */
  probe: LoadTenant;
  /** The Stripe endpoint secret, when known (local stack; `--stripe-secret` for a deployed stage). */
  stripeSecret?: string;
  /** Whether won leads of the probe tenant are uploaded (its Google Ads connection reaches a fake). */
  uploads: boolean;
}

export interface ScenarioResult {
  name: string;
  description: string;
  requests: number;
  rps: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  statuses: Record<string, number>;
  /** Requests answered outside 2xx, plus connection errors and timeouts. */
  errors: number;
  /** The `error` code of the first answer of each non-2xx status. */
  errorCodes?: Record<string, string>;
  skipped?: string;
}

export interface EndToEnd {
  samples: number;
  timedOut: number;
  p50Ms: number;
  p90Ms: number;
  skipped?: string;
}

export interface LoadResult {
  url: string;
  startedAt: string;
  options: Omit<LoadOptions, 'log'>;
  scenarios: ScenarioResult[];
  endToEnd: { webhookToLead: EndToEnd; wonToUploaded: EndToEnd };
  wallSeconds: number;
}

type OutgoingRequest =
  | SignedRequest
  | { method: 'GET' | 'POST'; path: string; headers: Record<string, string>; body?: string };

interface Scenario {
  name: string;
  description: string;
  /** Share of the overall rate. */
  weight: number;
  next: (n: number) => OutgoingRequest;
  skipped?: string;
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

function lead(run: string, n: number): Record<string, unknown> {
  return {
    email: `lead-${run}-${n}@example.com`,
    gclid: gclidFor(n, run),
    utm_source: 'google',
    utm_campaign: 'load',
    value: 120,
    currency: 'EUR',
    consent: { status: 'granted', method: 'form_checkbox', timestamp: new Date().toISOString() },
  };
}

/** The mix: signed webhooks of real sizes, lead captures single and by 100, list reads, token exchanges. */
export function scenarios(targets: LoadTargets, run: string): Scenario[] {
  const t = targets.main;
  const postLeads = (body: unknown): OutgoingRequest => ({
    method: 'POST',
    path: '/api/v1/leads',
    headers: { 'Content-Type': 'application/json', ...bearer(t.token) },
    body: JSON.stringify(body),
  });
  return [
    {
      name: 'shopify-order',
      description: 'Shopify orders/paid, 4.6 KB (one in ten the 63 KB order of 100 line items)',
      weight: 4,
      next: (n) => shopifyOrder(t.shopify, n, run, { big: n % 10 === 9 }),
    },
    {
      name: 'woocommerce-order',
      description: 'WooCommerce order.created, 4.2 KB',
      weight: 2,
      next: (n) => wooOrderOf(t, n, run),
    },
    {
      name: 'ghl-contact',
      description: 'GoHighLevel ContactCreate on the tenant URL, 2 KB',
      weight: 2,
      next: (n) => ghlOf(t, n, run),
    },
    {
      name: 'stripe-event',
      description: 'Stripe customer.subscription.updated, signed',
      weight: 1,
      next: (n) => stripeEvent(targets.stripeSecret ?? '', targets.tenantId ?? '', n, run),
      ...(targets.stripeSecret && targets.tenantId
        ? {}
        : { skipped: 'no Stripe endpoint secret (give --stripe-secret and --tenant-id)' }),
    },
    {
      name: 'lead-single',
      description: 'POST /api/v1/leads, one lead',
      weight: 2,
      next: (n) => postLeads(lead(run, n)),
    },
    {
      name: 'lead-batch-100',
      description: 'POST /api/v1/leads, an array of 100 leads',
      weight: 0.25,
      next: (n) => postLeads(Array.from({ length: 100 }, (_, i) => lead(`${run}b`, n * 100 + i))),
    },
    {
      name: 'leads-list',
      description: 'GET /api/v1/leads?limit=50',
      weight: 2,
      next: () => ({ method: 'GET', path: '/api/v1/leads?limit=50', headers: bearer(t.token) }),
    },
    {
      name: 'token-exchange',
      description: 'POST /api/v1/auth/token with the API key',
      weight: 1,
      next: () => ({
        method: 'POST',
        path: '/api/v1/auth/token',
        headers: { Authorization: `ApiKey ${targets.apiKey}` },
      }),
    },
  ];
}

const wooOrderOf = (t: LoadTenant, n: number, run: string) => wooOrder(t.woocommerce, n, run);
const ghlOf = (t: LoadTenant, n: number, run: string) => ghlContact(t.ghlPath, n, run);

function runScenario(
  baseUrl: string,
  scenario: Scenario,
  rate: number,
  amount: number,
  options: LoadOptions,
): Promise<ScenarioResult> {
  let n = 0;
  // autocannon shares the rate among connections: a scenario slower than one request a second per
  // connection gets fewer connections, never none.
  const connections = Math.max(1, Math.min(options.connections, Math.floor(rate)));
  const errorSamples: Record<string, string> = {};
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: baseUrl,
        connections,
        overallRate: Math.max(1, Math.round(rate)),
        duration: options.durationSeconds,
        maxOverallRequests: Math.max(connections, amount),
        timeout: 30,
        requests: [
          {
            onResponse: (status, body) => {
              const key = String(status);
              if (status >= 300 && !(key in errorSamples)) {
                let code = '';
                try {
                  code = String((JSON.parse(body) as { error?: unknown }).error ?? '');
                } catch {
                  code = body.slice(0, 60);
                }
                errorSamples[key] = code;
              }
            },
            setupRequest: (request) => {
              const next = scenario.next(n++);
              return {
                ...request,
                method: next.method,
                path: next.path,
                headers: next.headers,
                body: next.body,
              };
            },
          },
        ],
      },
      (error, result) => {
        if (error) return reject(error);
        const statuses: Record<string, number> = {};
        for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) {
          statuses[code] = Number((stat as { count: number | string }).count);
        }
        if (result.errors) statuses.connection_error = result.errors - result.timeouts;
        if (result.timeouts) statuses.timeout = result.timeouts;
        const requests = Object.values(statuses).reduce((a, b) => a + b, 0);
        resolve({
          name: scenario.name,
          description: scenario.description,
          requests,
          rps: requests / Math.max(result.duration, 0.001),
          latencyMs: {
            p50: result.latency.p50,
            p90: result.latency.p90,
            p99: result.latency.p99,
            max: result.latency.max,
          },
          statuses,
          errors: result.non2xx + result.errors,
          errorCodes: errorSamples,
        });
      },
    );
    instance.on('error', reject);
    // A hard stop: whatever autocannon decides, the scenario ends at its duration plus a grace.
    const hardStop = setTimeout(() => instance.stop(), (options.durationSeconds + 5) * 1000);
    instance.on('done', () => clearTimeout(hardStop));
  });
}

async function poll<T>(probe: () => Promise<T | undefined>, deadline: number): Promise<T | undefined> {
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

function summary(samples: number[], timedOut: number): EndToEnd {
  return {
    samples: samples.length,
    timedOut,
    p50Ms: percentile(samples, 50),
    p90Ms: percentile(samples, 90),
  };
}

async function findLead(tenant: LoadTenant, email: string): Promise<true | undefined> {
  let cursor: string | null = null;
  for (let page = 0; page < 3; page++) {
    const res: CallResult = await callJson(
      tenant.baseUrl,
      'GET',
      `/api/v1/leads?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      { token: tenant.token },
    );
    const items = (res.body.items ?? []) as Array<{ email?: string }>;
    if (items.some((l) => l.email === email)) return true;
    cursor = (res.body.next_cursor as string | null) ?? null;
    if (!cursor) return undefined;
  }
  return undefined;
}

/** Webhook accepted (202) → the lead readable through the API. */
async function webhookToLead(targets: LoadTargets, run: string, options: LoadOptions): Promise<EndToEnd> {
  const probe = targets.probe;
  const outcomes = await spaced(options, async (i) => {
    const email = `probe-${run}-${i}@example.com`;
    const request = shopifyOrder(probe.shopify, 900_000 + i, `${run}p`, { email });
    const res = await fetch(`${probe.baseUrl}${request.path}`, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(15_000),
    }).catch(() => undefined);
    const accepted = performance.now();
    if (res?.status !== 202) return undefined;
    const found = await poll(() => findLead(probe, email), Date.now() + options.probeTimeoutSeconds * 1000);
    return found ? performance.now() - accepted : undefined;
  });
  return summary(
    outcomes.filter((x): x is number => x !== undefined),
    outcomes.filter((x) => x === undefined).length,
  );
}

/**
 * Runs `probes` samples spread over the load's duration, concurrently, so the end-to-end figures
 * are taken under load and the run ends at most one probe timeout after the load.
 */
async function spaced<T>(options: LoadOptions, sample: (i: number) => Promise<T>): Promise<T[]> {
  const gapMs = (options.durationSeconds * 1000) / Math.max(1, options.probes);
  return Promise.all(
    Array.from({ length: options.probes }, async (_, i) => {
      await new Promise((r) => setTimeout(r, i * gapMs));
      return sample(i);
    }),
  );
}

/** PATCH status won answered → the conversion `uploaded` in the conversion log. */
async function wonToUploaded(targets: LoadTargets, run: string, options: LoadOptions): Promise<EndToEnd> {
  if (!targets.uploads) {
    return { ...summary([], 0), skipped: 'the probe tenant has no Google Ads connection to a fake' };
  }
  const probe = targets.probe;
  const outcomes = await spaced(options, async (i) => {
    const created = await callJson(probe.baseUrl, 'POST', '/api/v1/leads', {
      token: probe.token,
      body: lead(`${run}w`, i),
    }).catch(() => undefined);
    const leadId = (created?.body.lead_ids as string[] | undefined)?.[0];
    if (!leadId) return undefined;
    const won = await callJson(probe.baseUrl, 'PATCH', `/api/v1/leads/${leadId}`, {
      token: probe.token,
      body: { status: 'won', order_id: `probe-${run}-${i}`, value: 120, currency: 'EUR' },
    }).catch(() => undefined);
    const at = performance.now();
    if (won?.status !== 200) return undefined;
    const uploaded = await poll(
      async () => {
        const res = await callJson(probe.baseUrl, 'GET', '/api/v1/conversions?status=uploaded&limit=100', {
          token: probe.token,
        });
        const items = (res.body.items ?? []) as Array<{ lead_id?: string }>;
        return items.some((c) => c.lead_id === leadId) ? true : undefined;
      },
      Date.now() + options.probeTimeoutSeconds * 1000,
    );
    return uploaded ? performance.now() - at : undefined;
  });
  return summary(
    outcomes.filter((x): x is number => x !== undefined),
    outcomes.filter((x) => x === undefined).length,
  );
}

/**
 * Runs every scenario at once, each at its share of the overall rate, bounded by duration and
 * request count, while end-to-end probes sample the pipeline; returns per-scenario figures.
 */
export async function runLoad(
  baseUrl: string,
  targets: LoadTargets,
  options: LoadOptions,
): Promise<LoadResult> {
  const started = performance.now();
  const run = randomUUID().slice(0, 8);
  const mix = scenarios(targets, run);
  const active = mix.filter((s) => !s.skipped);
  const totalWeight = active.reduce((a, s) => a + s.weight, 0);
  options.log(
    `Load: ${active.length} scenarios for up to ${options.durationSeconds} s at ${options.rate} requests/s in all ` +
      `(at most ${options.maxRequests} requests), ${options.probes} end-to-end probes of each kind`,
  );
  const ticker = setInterval(
    () => options.log(`  ... ${Math.round((performance.now() - started) / 1000)} s`),
    5_000,
  );
  try {
    const [results, toLead, toUpload] = await Promise.all([
      Promise.all(
        mix.map((s) => {
          if (s.skipped) {
            return Promise.resolve<ScenarioResult>({
              name: s.name,
              description: s.description,
              requests: 0,
              rps: 0,
              latencyMs: { p50: 0, p90: 0, p99: 0, max: 0 },
              statuses: {},
              errors: 0,
              skipped: s.skipped,
            });
          }
          const share = s.weight / totalWeight;
          return runScenario(
            baseUrl,
            s,
            options.rate * share,
            Math.floor(options.maxRequests * share),
            options,
          );
        }),
      ),
      webhookToLead(targets, run, options),
      wonToUploaded(targets, run, options),
    ]);
    const { log: _log, ...rest } = options;
    return {
      url: baseUrl,
      startedAt: new Date(Date.now() - (performance.now() - started)).toISOString(),
      options: rest,
      scenarios: results,
      endToEnd: { webhookToLead: toLead, wonToUploaded: toUpload },
      wallSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    clearInterval(ticker);
  }
}

export function formatLoad(result: LoadResult): string {
  const lines = [
    `Target ${result.url}, ${result.wallSeconds.toFixed(1)} s wall time`,
    'scenario             requests    req/s   p50 ms   p90 ms   p99 ms   errors  statuses',
  ];
  for (const s of result.scenarios) {
    if (s.skipped) {
      lines.push(`${s.name.padEnd(20)} skipped: ${s.skipped}`);
      continue;
    }
    const statuses = Object.entries(s.statuses)
      .map(([k, v]) => `${k}:${v}${s.errorCodes?.[k] ? ` (${s.errorCodes[k]})` : ''}`)
      .join(' ');
    lines.push(
      [
        s.name.padEnd(20),
        String(s.requests).padStart(8),
        s.rps.toFixed(1).padStart(8),
        s.latencyMs.p50.toFixed(0).padStart(8),
        s.latencyMs.p90.toFixed(0).padStart(8),
        s.latencyMs.p99.toFixed(0).padStart(8),
        String(s.errors).padStart(8),
        ` ${statuses}`,
      ].join(' '),
    );
  }
  const e2e = (name: string, e: EndToEnd) =>
    e.skipped
      ? `${name}: skipped (${e.skipped})`
      : `${name}: p50 ${e.p50Ms.toFixed(0)} ms, p90 ${e.p90Ms.toFixed(0)} ms (${e.samples} samples, ${e.timedOut} timed out)`;
  lines.push(e2e('webhook accepted → lead visible', result.endToEnd.webhookToLead));
  lines.push(e2e('lead won → conversion uploaded', result.endToEnd.wonToUploaded));
  return lines.join('\n');
}

export function writeLoadResult(file: string, result: LoadResult): void {
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
}
