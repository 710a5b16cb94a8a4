import type { APIGatewayProxyResult } from 'aws-lambda';
import { invoke } from '../../local/lambda';
import { freshResources } from '../support/emulator';
import { apiEvent } from '../support/events';

/**
 * The local run mode calls handlers of several functions at once in one process (the gateway for
 * concurrent requests, the pollers for queued work). Each invocation must log under its own
 * context: its route, its function's name, its request ids, never another invocation's.
 */
type Line = Record<string, unknown>;

// Logged at INFO here (the tests are silent by default): the logger reads its level when the first
// function loads, which `invoke` does below.
process.env.POWERTOOLS_LOG_LEVEL = 'INFO';

const INVOCATIONS = 20;
const CALLS = {
  api: { route: 'GET /api/v1/openapi.json', method: 'GET', resource: '/api/v1/openapi.json' },
  ingest: {
    route: 'POST /api/v1/billing/webhooks/stripe',
    method: 'POST',
    resource: '/api/v1/billing/webhooks/stripe',
  },
} as const;

describe('log context per invocation in the local run mode', () => {
  const written: string[] = [];
  const restores: Array<() => void> = [];

  beforeAll(async () => {
    await freshResources();
    // A rate-limit table that does not exist: every request, whatever its function, logs that the
    // store failed, under its route and request id (and is refused 503, fail closed).
    process.env.RATE_LIMIT_TABLE = 'no-such-rate-limit-table';
    for (const stream of [process.stdout, process.stderr]) {
      const original = stream.write;
      restores.push(() => {
        stream.write = original;
      });
      stream.write = ((chunk: unknown) => {
        written.push(String(chunk));
        return true;
      }) as typeof stream.write;
    }
  });

  afterAll(() => {
    for (const restore of restores) restore();
    delete process.env.POWERTOOLS_LOG_LEVEL;
  });

  it('two functions invoked concurrently: every log line names its own invocation', async () => {
    const calls = Array.from({ length: INVOCATIONS }, (_, i) =>
      (['api', 'ingest'] as const).map((fn) => ({ fn, requestId: `${fn}-${i}`, ...CALLS[fn] })),
    ).flat();
    const results = (await Promise.all(
      calls.map((call) =>
        invoke(
          call.fn,
          apiEvent({
            method: call.method,
            resource: call.resource,
            requestId: call.requestId,
            sourceIp: '198.51.100.7',
            headers: { 'Content-Type': 'application/json', 'Stripe-Signature': 't=1,v1=00' },
            body: call.method === 'POST' ? '{"id":"evt_1"}' : undefined,
          }),
          'us-east-1',
        ),
      ),
    )) as APIGatewayProxyResult[];
    for (const restore of restores.splice(0)) restore();
    expect(results.map((r) => r.statusCode)).toEqual(calls.map(() => 503));

    const lines: Line[] = written
      .join('')
      .split('\n')
      .filter((text) => text.startsWith('{"'))
      .map((text) => JSON.parse(text) as Line)
      .filter((line) => typeof line.request_id === 'string');
    const byRequest = new Map(calls.map((call) => [call.requestId, call]));
    // Every invocation logged, and every line is one of them.
    expect(new Set(lines.map((line) => line.request_id))).toEqual(new Set(byRequest.keys()));
    for (const line of lines) {
      const call = byRequest.get(line.request_id as string);
      expect({
        request_id: line.request_id,
        route: line.route,
        function_name: line.function_name,
      }).toEqual({
        request_id: call?.requestId,
        route: call?.route,
        function_name: `adsengineer-local-${call?.fn}`,
      });
    }
    // One Lambda request id per invocation, never shared between two of them.
    const invocationOf = new Map<unknown, unknown>();
    for (const line of lines) {
      const seen = invocationOf.get(line.function_request_id);
      if (seen !== undefined) expect(seen).toBe(line.request_id);
      invocationOf.set(line.function_request_id, line.request_id);
    }
    expect(invocationOf.size).toBe(calls.length);
  });
});
