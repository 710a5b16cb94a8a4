import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Context } from 'aws-lambda';
import { asFunction } from '../../functions/shared/aws-recording';
import { type FunctionDefinition, type FunctionId, functionDefinition } from '../definitions/resources';

/** A Lambda handler as the local runner calls it: event and context in, result out. */
export type LocalHandler = (event: unknown, context: Context) => Promise<unknown>;

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

const handlers = new Map<FunctionId, Promise<LocalHandler>>();

/** Loads a function's entry module once, as a warm Lambda container would. */
export function loadHandler(id: FunctionId): Promise<LocalHandler> {
  let loaded = handlers.get(id);
  if (!loaded) {
    const entry = path.join(REPO_ROOT, functionDefinition(id).entry);
    loaded = import(entry).then((mod: { handler?: LocalHandler; default?: { handler?: LocalHandler } }) => {
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

/** Invokes a handler with the function's timeout, as Lambda would cut it off. */
export async function invoke(id: FunctionId, event: unknown, region: string): Promise<unknown> {
  const fn = functionDefinition(id);
  const handler = await loadHandler(id);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${id} timed out after ${fn.timeoutSeconds} s`)),
      fn.timeoutSeconds * 1_000,
    );
  });
  try {
    // The AWS calls the invocation makes are its function's (recorded when AWS_CALL_RECORD_DIR is set).
    return await Promise.race([asFunction(id, () => handler(event, lambdaContext(fn, region))), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
