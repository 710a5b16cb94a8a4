import { type AttributeValue, type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { dynamoClient, sqsClient } from '../../functions/shared/platform/aws/clients';
import { type Item, writeTargets } from './dynamo-units';

/** An item a write names, as it was just before the call and just after it (absent: no such item). */
export interface ItemImage {
  table: string;
  key: Item;
  before?: Item;
  after?: Item;
}

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
  /** With item images on: every item the write names, before and after the call. */
  images?: ItemImage[];
}

/**
 * Records every call the functions' shared DynamoDB and SQS clients make (operation, start, end,
 * wire body, answer) and can add a fixed network delay to each, standing for the in-region round
 * trip the loopback emulator does not have. Product and floor handlers use the same clients.
 *
 * With item images on (`recordImages`), every PutItem, UpdateItem, DeleteItem, BatchWriteItem and
 * TransactWriteItems also gets the items it names read (GetItem, strongly consistent) just before
 * the call is sent and just after it answers, through a client of its own that is not recorded.
 * The reads fall outside the call's start and end, but they take time: time work with them off.
 */
export class AwsCallRecorder {
  calls: RecordedCall[] = [];
  delayMs = 0;
  keepBodies = false;
  private images?: DynamoDBClient;

  /** Turns item images on (and bodies, which they are found from), read with `client`; off without one. */
  recordImages(client: DynamoDBClient | undefined): this {
    this.images = client;
    if (client) this.keepBodies = true;
    return this;
  }

  install(): this {
    const options = { step: 'finalizeRequest', name: 'benchRecorder', override: true } as const;
    dynamoClient().middlewareStack.add(
      (next, context) => async (args) => {
        // The client images are read with for this call, even if they are turned off meanwhile.
        const reader = this.images;
        const images = reader ? await readImages(reader, context.commandName, args.request) : undefined;
        const started = await this.before();
        try {
          const result = await next(args);
          const end = performance.now();
          if (reader && images) await readImages(reader, context.commandName, args.request, images);
          this.record('dynamodb', context.commandName, started, args.request, result.output, undefined, {
            end,
            images,
          });
          return result;
        } catch (error) {
          const end = performance.now();
          if (reader && images) await readImages(reader, context.commandName, args.request, images);
          this.record('dynamodb', context.commandName, started, args.request, undefined, error, {
            end,
            images,
          });
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
    extra: { end?: number; images?: ItemImage[] } = {},
  ): void {
    const call: RecordedCall = {
      service,
      operation: operationOf(commandName),
      start,
      end: extra.end ?? performance.now(),
      ...(error ? { failed: error instanceof Error ? error.name : 'Error' } : {}),
      ...(extra.images ? { images: extra.images } : {}),
    };
    if (this.keepBodies) {
      const body = bodyOf(request);
      if (body !== undefined) call.body = body;
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

const operationOf = (commandName: string | undefined) =>
  String(commandName ?? 'unknown').replace(/Command$/, '');

/** The request body as sent on the wire (DynamoDB JSON). */
function bodyOf(request: unknown): string | undefined {
  const body = (request as { body?: unknown }).body;
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return new TextDecoder().decode(body);
  return undefined;
}

/**
 * Reads the items a write names: before the call (`into` absent: returns the images) or after it
 * (fills `after` of the images read before).
 */
async function readImages(
  client: DynamoDBClient,
  commandName: string | undefined,
  request: unknown,
  into?: ItemImage[],
): Promise<ItemImage[]> {
  const images: ItemImage[] =
    into ??
    writeTargets(operationOf(commandName), bodyOf(request)).flatMap((t) =>
      t.key ? [{ table: t.table, key: t.key }] : [],
    );
  await Promise.all(
    images.map(async (image) => {
      const { Item: item } = await client.send(
        new GetItemCommand({
          TableName: image.table,
          Key: image.key as unknown as Record<string, AttributeValue>,
          ConsistentRead: true,
        }),
      );
      if (item) image[into ? 'after' : 'before'] = item as unknown as Item;
    }),
  );
  return images;
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
