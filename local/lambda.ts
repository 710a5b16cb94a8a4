import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Context } from 'aws-lambda';
import { type FunctionDefinition, type FunctionId, functionDefinition } from '../contract/resources';
import { asFunction } from '../functions/shared/platform/aws/recording';

/** A Lambda handler as the local runner calls it: event and context in, result out. */
export type LocalHandler = (event: unknown, context: Context) => Promise<unknown>;

export const REPO_ROOT = path.resolve(__dirname, '..');

const handlers = new Map<FunctionId, Promise<LocalHandler>>();

/**
 * Loads a function's entry module once, as a warm Lambda container would. The module's own
 * initialisation runs in a context of its own (Powertools' batch processor, built at module scope,
 * writes its state there), discarded once loaded: invocations start from a fresh context.
 */
export function loadHandler(id: FunctionId): Promise<LocalHandler> {
  let loaded = handlers.get(id);
  if (!loaded) {
    const entry = path.join(REPO_ROOT, functionDefinition(id).entry);
    loaded = localInvokeStore()
      .run({}, () => import(entry))
      .then((mod: { handler?: LocalHandler; default?: { handler?: LocalHandler } }) => {
        const handler = mod.handler ?? mod.default?.handler;
        if (typeof handler !== 'function') throw new Error(`${entry} does not export a handler`);
        return handler;
      });
    handlers.set(id, loaded);
  }
  return loaded;
}

export function lambdaContext(fn: FunctionDefinition, region: string): Context {
  const deadline = Date.now() + fn.timeoutSeconds * 1_000;
  const functionName = `adsengineer-local-${fn.id}`;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${functionName}`,
    memoryLimitInMB: String(fn.memoryMb),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/**
 * The local run mode calls every function's handler in one process, concurrently, so whatever a
 * handler keeps in module state for "the invocation" would be seen by the others: the Powertools
 * logger's keys (`route`, `request_id`, the Lambda context), its metrics, the batch processor's
 * records. Lambda's multi-concurrency environments solve this with the runtime's `InvokeStore`
 * (`globalThis.awslambda.InvokeStore`, an AsyncLocalStorage of one context per invocation), which
 * Powertools uses when `AWS_LAMBDA_MAX_CONCURRENCY` is set. The local runner plays the runtime's
 * part: it provides the store and runs each invocation in its own context.
 */
const REQUEST_ID = Symbol.for('_AWS_LAMBDA_REQUEST_ID');
const PROTECTED_KEYS: Record<string, symbol> = {
  REQUEST_ID,
  X_RAY_TRACE_ID: Symbol.for('_AWS_LAMBDA_X_RAY_TRACE_ID'),
  TENANT_ID: Symbol.for('_AWS_LAMBDA_TENANT_ID'),
  TRACEPARENT: Symbol.for('_AWS_LAMBDA_TRACEPARENT'),
  TRACESTATE: Symbol.for('_AWS_LAMBDA_TRACESTATE'),
  BAGGAGE: Symbol.for('_AWS_LAMBDA_BAGGAGE'),
};
type InvocationContext = Record<string | symbol, unknown>;

/** The runtime's InvokeStore contract (`@aws/lambda-invoke-store`), one context per invocation. */
export class LocalInvokeStore {
  static readonly PROTECTED_KEYS = PROTECTED_KEYS;
  private readonly als = new AsyncLocalStorage<InvocationContext>();

  isProtectedKey(key: string | symbol): boolean {
    return Object.values(PROTECTED_KEYS).includes(key as symbol);
  }
  getContext(): InvocationContext | undefined {
    return this.als.getStore();
  }
  hasContext(): boolean {
    return this.als.getStore() !== undefined;
  }
  get(key: string | symbol): unknown {
    return this.als.getStore()?.[key];
  }
  set(key: string | symbol, value: unknown): void {
    if (this.isProtectedKey(key))
      throw new Error(`Cannot modify protected Lambda context field: ${String(key)}`);
    const store = this.als.getStore();
    if (!store) throw new Error('No context available');
    store[key] = value;
  }
  run<T>(context: InvocationContext, fn: () => T): T {
    return this.als.run(context, fn);
  }
  getRequestId(): string {
    return (this.get(REQUEST_ID) as string | undefined) ?? '-';
  }
  getXRayTraceId(): string | undefined {
    return this.get(PROTECTED_KEYS.X_RAY_TRACE_ID as symbol) as string | undefined;
  }
  getTenantId(): string | undefined {
    return this.get(PROTECTED_KEYS.TENANT_ID as symbol) as string | undefined;
  }
  getTraceparent(): string | undefined {
    return this.get(PROTECTED_KEYS.TRACEPARENT as symbol) as string | undefined;
  }
  getTracestate(): string | undefined {
    return this.get(PROTECTED_KEYS.TRACESTATE as symbol) as string | undefined;
  }
  getBaggage(): string | undefined {
    return this.get(PROTECTED_KEYS.BAGGAGE as symbol) as string | undefined;
  }
}

/** How many invocations of a function the local run mode may run at once (declared to Powertools). */
const LOCAL_MAX_CONCURRENCY = '64';

/** The store every invocation of this process runs in, installed where the runtime puts it. */
export function localInvokeStore(): LocalInvokeStore {
  const global = globalThis as { awslambda?: { InvokeStore?: unknown } };
  global.awslambda ??= {};
  if (!(global.awslambda.InvokeStore instanceof LocalInvokeStore))
    global.awslambda.InvokeStore = new LocalInvokeStore();
  return global.awslambda.InvokeStore as LocalInvokeStore;
}

/**
 * The store, with the concurrency setting that makes Powertools keep its per-invocation state
 * there (set only once the store exists: Powertools refuses the setting without one).
 */
export function concurrentInvokeStore(): LocalInvokeStore {
  const store = localInvokeStore();
  process.env.AWS_LAMBDA_MAX_CONCURRENCY ??= LOCAL_MAX_CONCURRENCY;
  return store;
}

/** Invokes a handler with the function's timeout, as Lambda would cut it off, in its own context. */
export async function invoke(id: FunctionId, event: unknown, region: string): Promise<unknown> {
  const fn = functionDefinition(id);
  const store = concurrentInvokeStore();
  const handler = await loadHandler(id);
  const context = lambdaContext(fn, region);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${id} timed out after ${fn.timeoutSeconds} s`)),
      fn.timeoutSeconds * 1_000,
    );
  });
  try {
    // The AWS calls the invocation makes are its function's (recorded when AWS_CALL_RECORD_DIR is set).
    return await Promise.race([
      asFunction(id, () => store.run({ [REQUEST_ID]: context.awsRequestId }, () => handler(event, context))),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
