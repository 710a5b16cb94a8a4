import { dynamoClient, sqsClient } from '../../functions/shared/aws';

export interface RecordedCall {
  service: 'dynamodb' | 'sqs';
  operation: string;
  start: number;
  end: number;
  /** The request body as sent on the wire (DynamoDB JSON), and the parsed answer. */
  body?: string;
  output?: unknown;
  /** The error's name when the call failed (a failed conditional write still consumes a unit). */
  failed?: string;
}

/**
 * Records every call the functions' shared DynamoDB and SQS clients make (operation, start, end,
 * wire body, answer) and can add a fixed network delay to each, standing for the in-region round
 * trip the loopback emulator does not have. Product and floor handlers use the same clients.
 */
export class AwsCallRecorder {
  calls: RecordedCall[] = [];
  delayMs = 0;
  keepBodies = false;

  install(): this {
    const options = { step: 'finalizeRequest', name: 'benchRecorder', override: true } as const;
    dynamoClient().middlewareStack.add(
      (next, context) => async (args) => {
        const started = await this.before();
        try {
          const result = await next(args);
          this.record('dynamodb', context.commandName, started, args.request, result.output);
          return result;
        } catch (error) {
          this.record('dynamodb', context.commandName, started, args.request, undefined, error);
          throw error;
        }
      },
      options,
    );
    sqsClient().middlewareStack.add(
      (next, context) => async (args) => {
        const started = await this.before();
        const result = await next(args);
        this.record('sqs', context.commandName, started, args.request, result.output);
        return result;
      },
      options,
    );
    return this;
  }

  private async before(): Promise<number> {
    const start = performance.now();
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    return start;
  }

  private record(
    service: RecordedCall['service'],
    commandName: string | undefined,
    start: number,
    request: unknown,
    output: unknown,
    error?: unknown,
  ): void {
    const call: RecordedCall = {
      service,
      operation: String(commandName ?? 'unknown').replace(/Command$/, ''),
      start,
      end: performance.now(),
      ...(error ? { failed: error instanceof Error ? error.name : 'Error' } : {}),
    };
    if (this.keepBodies) {
      const body = (request as { body?: unknown }).body;
      if (typeof body === 'string') call.body = body;
      else if (body instanceof Uint8Array) call.body = Buffer.from(body).toString('utf8');
      call.output = output;
    }
    this.calls.push(call);
  }

  take(): RecordedCall[] {
    const out = this.calls;
    this.calls = [];
    return out;
  }
}

/**
 * Round trips on the critical path: calls grouped into waves, a new wave starting when a call
 * begins after every earlier call has ended. Two writes issued together are one wave.
 */
export function sequentialRoundTrips(calls: readonly RecordedCall[]): number {
  const sorted = [...calls].sort((a, b) => a.start - b.start);
  let waves = 0;
  let lastEnd = Number.NEGATIVE_INFINITY;
  for (const call of sorted) {
    if (call.start >= lastEnd) waves += 1;
    lastEnd = Math.max(lastEnd, call.end);
  }
  return waves;
}
