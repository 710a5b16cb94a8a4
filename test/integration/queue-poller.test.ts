/**
 * The local queue poller hands messages to their consumer as Lambda's SQS event source does, and
 * settles them by the consumer's answer: nothing to report deletes the batch, a throw of any kind
 * returns all of it to the queue.
 */
import { EventEmitter } from 'node:events';
import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { queueDefinition } from '../../lib/definitions/resources';
import { type BatchReport, QueuePoller } from '../../lib/local/poller';
import { emulatorUrl, freshResources } from '../support/emulator';

describe('queue poller', () => {
  let env: Record<string, string>;
  let sqs: SQSClient;

  beforeAll(async () => {
    env = await freshResources();
    sqs = new SQSClient({ endpoint: emulatorUrl(), region: 'us-east-1' });
  });
  afterAll(() => sqs.destroy());

  async function oneBatch(invoker: (event: SQSEvent) => Promise<unknown>): Promise<BatchReport> {
    const events = new EventEmitter();
    const poller = new QueuePoller({
      sqs,
      queue: queueDefinition('conversions'),
      queueUrl: env.CONVERSIONS_QUEUE_URL as string,
      region: 'us-east-1',
      retryDelaySeconds: 0,
      events,
      invoker,
    });
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
