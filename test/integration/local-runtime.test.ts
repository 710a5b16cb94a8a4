import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { type QueueId, queueDefinition } from '../../contract/resources';
import { EmulatorUnavailableError, isReachable, startEmulator, useEmulator } from '../../local/emulator';
import { type BatchReport, type PollerOptions, QueuePoller } from '../../local/poller';
import { clearState, readState, writeState } from '../../local/state';
import { emulatorUrl, freshQueues } from '../support/emulator';

const root = path.resolve(__dirname, '..', '..');

function next<T>(events: EventEmitter, name: string, timeoutMs = 15_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${name} event`)), timeoutMs);
    events.once(name, (value: T) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

describe('local run mode parts', () => {
  let env: Record<string, string>;
  let sqs: SQSClient;
  beforeAll(async () => {
    ({ env, sqs } = await freshQueues());
  });
  afterAll(() => sqs.destroy());

  /** A poller of a queue of the shared list, at `queueUrl`, retrying without delay. */
  const pollerOf = (
    queue: QueueId,
    queueUrl: string,
    events: EventEmitter,
    invoker?: PollerOptions['invoker'],
  ) =>
    new QueuePoller({
      sqs,
      queue: queueDefinition(queue),
      queueUrl,
      region: 'us-east-1',
      retryDelaySeconds: 0,
      events,
      invoker,
    });

  it('returns every message of a batch whose consumer throws to the queue', async () => {
    const events = new EventEmitter();
    const seen: SQSEvent[] = [];
    const poller = pollerOf('webhooks', env.WEBHOOKS_QUEUE_URL as string, events, async (event) => {
      seen.push(event);
      throw new Error('consumer crashed');
    });
    const sent = await sqs.send(
      new SendMessageCommand({ QueueUrl: env.WEBHOOKS_QUEUE_URL, MessageBody: 'x' }),
    );
    const reported = next<BatchReport>(events, 'batch');
    poller.start();
    poller.start();
    const report = await reported;
    await poller.stop();
    expect(report).toMatchObject({ failedIds: [sent.MessageId], error: 'consumer crashed' });
    expect(seen[0]?.Records[0]).toMatchObject({ body: 'x', eventSource: 'aws:sqs', awsRegion: 'us-east-1' });
    expect(seen[0]?.Records[0]?.eventSourceARN).toMatch(/^arn:aws:sqs:/);
  });

  it('reports polling errors and keeps polling', async () => {
    const created = await sqs.send(new CreateQueueCommand({ QueueName: 'short-lived' }));
    const events = new EventEmitter();
    const poller = pollerOf('webhooks', `${created.QueueUrl}-missing`, events);
    const failed = next<Error>(events, 'error');
    poller.start();
    expect(await failed).toBeInstanceOf(Error);
    await poller.stop();
  });

  it('says clearly when moto cannot start or cannot be reached', async () => {
    const held: Socket[] = [];
    const blocker = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      await expect(startEmulator({ root, port, readyTimeoutMs: 20_000 })).rejects.toThrow(
        EmulatorUnavailableError,
      );
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
    await expect(useEmulator('http://127.0.0.1:9')).rejects.toThrow(
      'No emulator answers at http://127.0.0.1:9',
    );
    expect(await isReachable('http://127.0.0.1:9', 200)).toBe(false);
    const reused = await useEmulator(emulatorUrl());
    expect(reused.started).toBe(false);
    await reused.stop();
    expect(await isReachable(emulatorUrl())).toBe(true);
  });

  it('writes the local state without secrets, readable only by its owner', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ae-state-'));
    const file = path.join(dir, 'stack.json');
    expect(readState(file)).toBeUndefined();
    writeState(
      {
        url: 'http://127.0.0.1:3000',
        pid: 42,
        env: { JWT_SECRET: 'top', AWS_SECRET_ACCESS_KEY: 'k', TABLE: 't' },
      },
      file,
    );
    expect(readState(file)).toEqual({ url: 'http://127.0.0.1:3000', pid: 42, env: { TABLE: 't' } });
    expect(readFileSync(file, 'utf8')).not.toContain('top');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    clearState(file);
    expect(readState(file)).toBeUndefined();
    rmSync(dir, { recursive: true, force: true });
  });

  describe("the queue poller settles a batch by its consumer's answer, as the SQS event source does", () => {
    async function oneBatch(invoker: (event: SQSEvent) => Promise<unknown>): Promise<BatchReport> {
      const events = new EventEmitter();
      const poller = pollerOf('conversions', env.CONVERSIONS_QUEUE_URL as string, events, invoker);
      const report = new Promise<BatchReport>((resolve) => events.once('batch', resolve));
      poller.start();
      const result = await report;
      await poller.stop();
      return result;
    }

    const waiting = async () => {
      const attrs = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: env.CONVERSIONS_QUEUE_URL,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return (
        Number(attrs.Attributes?.ApproximateNumberOfMessages) +
        Number(attrs.Attributes?.ApproximateNumberOfMessagesNotVisible)
      );
    };

    it('passes message attributes of every type, and deletes the batch when the consumer reports nothing', async () => {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: env.CONVERSIONS_QUEUE_URL,
          MessageBody: '{"conversion":1}',
          MessageAttributes: {
            source: { DataType: 'String', StringValue: 'api' },
            trace: { DataType: 'Binary', BinaryValue: Buffer.from([1, 2, 3]) },
          },
        }),
      );
      const seen: SQSEvent[] = [];
      const report = await oneBatch(async (event) => {
        seen.push(event);
        return undefined;
      });
      expect(report.failedIds).toEqual([]);
      expect(report.error).toBeUndefined();
      const record = seen[0]?.Records[0];
      expect(record?.body).toBe('{"conversion":1}');
      expect(record?.messageAttributes).toEqual({
        source: { dataType: 'String', stringValue: 'api' },
        trace: { dataType: 'Binary' },
      });
      expect(Number(record?.attributes.ApproximateReceiveCount)).toBe(1);
      expect(await waiting()).toBe(0);
    });

    it('returns the batch to the queue when the consumer throws something that is not an Error', async () => {
      await sqs.send(
        new SendMessageCommand({ QueueUrl: env.CONVERSIONS_QUEUE_URL, MessageBody: '{"conversion":2}' }),
      );
      const report = await oneBatch(async () => {
        throw 'consumer gave up';
      });
      expect(report.error).toBe('consumer gave up');
      expect(report.failedIds).toEqual(report.messageIds);
      expect(await waiting()).toBe(1);
      // Back on the queue: the next poll gets it again, received a second time.
      const again: SQSEvent[] = [];
      await oneBatch(async (event) => {
        again.push(event);
      });
      expect(again[0]?.Records[0]?.body).toBe('{"conversion":2}');
      expect(again[0]?.Records[0]?.attributes.ApproximateReceiveCount).toBe('2');
    });
  });
});
