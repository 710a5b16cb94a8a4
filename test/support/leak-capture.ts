/**
 * The leak test of the e2e tier (jest.config.js, setupFilesAfterEnv of the e2e project). For the
 * whole of each e2e file:
 * - the functions log at DEBUG and publish their metrics (EMF) as in AWS, and everything the
 *   process writes (function logs, metrics, poller and gateway messages) is kept, the JSON lines
 *   not echoed;
 * - every personal value and credential the file sends or receives over HTTP is noted: JSON body
 *   values under personal or secret keys and every email-shaped string, Authorization credentials,
 *   webhook URL tokens;
 * - after the file, any of them found in what was written fails the file, naming what and where.
 */
import {
  credentialOf,
  describeLeaks,
  findLeaks,
  type Sensitive,
  sensitiveValues,
  webhookTokenOf,
} from './leaks';
import { routeOf, saveRouteHits } from './route-hits';

process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
process.env.POWERTOOLS_METRICS_DISABLED = 'false';
process.env.POWERTOOLS_METRICS_NAMESPACE ??= 'AdsEngineer';

interface Captured {
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
}

const captured: Captured[] = [];
const sensitive: Sensitive[] = [];
/** The route-table routes this file called over HTTP (the route-coverage check of test/tiers.ts). */
const routeHits = new Set<string>();

/** Everything written so far; `from` is a mark from `outputMark()`. */
export function capturedOutput(from = 0): string {
  return captured
    .slice(from)
    .map((c) => c.text)
    .join('');
}

export function outputMark(): number {
  return captured.length;
}

const isStructured = (text: string) => /^\s*\{"/.test(text);

const restores: Array<() => void> = [];
for (const stream of ['stdout', 'stderr'] as const) {
  const target = process[stream];
  const saved = target.write;
  restores.push(() => {
    target.write = saved;
  });
  const original = saved.bind(target) as (...args: unknown[]) => boolean;
  target.write = ((chunk: unknown, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
    captured.push({ stream, text });
    if (isStructured(text)) {
      const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    }
    return original(chunk, ...rest);
  }) as typeof target.write;
}

function noteBody(body: unknown, kind: string) {
  if (typeof body !== 'string' || body === '') return;
  try {
    sensitiveValues(JSON.parse(body), kind, sensitive);
  } catch {
    // Not JSON (a form, bytes): nothing keyed to note.
  }
}

const originalFetch = globalThis.fetch;
globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  const parsed = new URL(url);
  if (parsed.hostname === '127.0.0.1') {
    const route = routeOf(init?.method ?? (input instanceof Request ? input.method : 'GET'), parsed.pathname);
    if (route) routeHits.add(route);
  }
  sensitive.push(...webhookTokenOf(url));
  const headers = new Headers(init?.headers);
  const authorization = headers.get('authorization');
  if (authorization) sensitive.push(...credentialOf(authorization));
  noteBody(typeof init?.body === 'string' ? init.body : undefined, 'request body');
  const response = await originalFetch(input, init);
  const copy = response.clone();
  const text = await copy.text().catch(() => '');
  noteBody(text, 'response body');
  for (const match of text.matchAll(/"webhook_url":"([^"]+)"/g))
    sensitive.push(...webhookTokenOf(match[1] as string));
  return response;
}) as typeof fetch;

/** The values noted so far (for tests of this capture). */
export function notedSensitive(): readonly Sensitive[] {
  return sensitive;
}

afterAll(() => {
  for (const restore of restores) restore();
  saveRouteHits(expect.getState().testPath ?? 'unknown', routeHits);
  globalThis.fetch = originalFetch;
  const outputs = [
    {
      where: 'process stdout',
      text: captured
        .filter((c) => c.stream === 'stdout')
        .map((c) => c.text)
        .join(''),
    },
    {
      where: 'process stderr',
      text: captured
        .filter((c) => c.stream === 'stderr')
        .map((c) => c.text)
        .join(''),
    },
  ];
  const leaks = findLeaks(outputs, sensitive);
  if (leaks.length) {
    throw new Error(
      `Personal data or credentials found in the output of this test file:\n${describeLeaks(leaks)}`,
    );
  }
});
