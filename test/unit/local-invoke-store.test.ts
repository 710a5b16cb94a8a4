import { concurrentInvokeStore, LocalInvokeStore, localInvokeStore } from '../../local/lambda';

/** The runtime's InvokeStore contract as the local runner provides it (AsyncLocalStorage). */
describe('the local InvokeStore', () => {
  const REQUEST_ID = LocalInvokeStore.PROTECTED_KEYS.REQUEST_ID as symbol;

  it('gives each run its own context, also across awaits of runs that overlap', async () => {
    const store = new LocalInvokeStore();
    const seen: string[] = [];
    const one = async (id: string, waitMs: number) =>
      store.run({ [REQUEST_ID]: id }, async () => {
        store.set('route', `route-${id}`);
        await new Promise((resolve) => setTimeout(resolve, waitMs));
        seen.push(`${store.getRequestId()} ${String(store.get('route'))}`);
      });
    await Promise.all([one('a', 20), one('b', 5), one('c', 10)]);
    expect(seen.sort()).toEqual(['a route-a', 'b route-b', 'c route-c']);
    expect(store.hasContext()).toBe(false);
    expect(store.getContext()).toBeUndefined();
    expect(store.getRequestId()).toBe('-');
  });

  it("refuses to change the runtime's keys, and to set anything outside an invocation", () => {
    const store = new LocalInvokeStore();
    expect(() => store.set('route', 'x')).toThrow('No context available');
    store.run(
      {
        [REQUEST_ID]: 'r-1',
        [LocalInvokeStore.PROTECTED_KEYS.X_RAY_TRACE_ID as symbol]: 'Root=1-abc',
        [LocalInvokeStore.PROTECTED_KEYS.TENANT_ID as symbol]: 'tenant',
        [LocalInvokeStore.PROTECTED_KEYS.TRACEPARENT as symbol]: '00-abc-def-01',
        [LocalInvokeStore.PROTECTED_KEYS.TRACESTATE as symbol]: 'k=v',
        [LocalInvokeStore.PROTECTED_KEYS.BAGGAGE as symbol]: 'b=1',
      },
      () => {
        expect(() => store.set(REQUEST_ID, 'other')).toThrow('protected');
        expect(store.isProtectedKey(REQUEST_ID)).toBe(true);
        expect(store.isProtectedKey('route')).toBe(false);
        expect([
          store.getRequestId(),
          store.getXRayTraceId(),
          store.getTenantId(),
          store.getTraceparent(),
          store.getTracestate(),
          store.getBaggage(),
        ]).toEqual(['r-1', 'Root=1-abc', 'tenant', '00-abc-def-01', 'k=v', 'b=1']);
      },
    );
  });

  it('is installed where the runtime puts it, once, and only then declared to Powertools', () => {
    const saved = process.env.AWS_LAMBDA_MAX_CONCURRENCY;
    delete process.env.AWS_LAMBDA_MAX_CONCURRENCY;
    try {
      const store = localInvokeStore();
      expect((globalThis as { awslambda?: { InvokeStore?: unknown } }).awslambda?.InvokeStore).toBe(store);
      expect(process.env.AWS_LAMBDA_MAX_CONCURRENCY).toBeUndefined();
      expect(concurrentInvokeStore()).toBe(store);
      expect(process.env.AWS_LAMBDA_MAX_CONCURRENCY).toBe('64');
    } finally {
      if (saved === undefined) delete process.env.AWS_LAMBDA_MAX_CONCURRENCY;
      else process.env.AWS_LAMBDA_MAX_CONCURRENCY = saved;
    }
  });
});
