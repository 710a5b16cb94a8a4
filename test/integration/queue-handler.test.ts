import {
  type Message,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { withCorrelation } from '../../functions/shared/platform/observability';
import { queueHandler } from '../../functions/shared/platform/queues/handler';
import { sendMessage, sendMessages, stringAttribute } from '../../functions/shared/platform/queues/publisher';
import { freshQueues } from '../support/emulator';
import { lambdaContext } from '../support/events';

let env: Record<string, string>;
let sqs: SQSClient;

beforeAll(async () => {
  ({ env, sqs } = await freshQueues());
});
afterAll(() => sqs.destroy());
beforeEach(async () => {
  for (const url of [env.CONVERSIONS_QUEUE_URL, env.CONVERSIONS_DLQ_URL])
    await sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
});

/** Every message visible on the queue now, read with a long visibility so none is read twice. */
async function drain(url: string | undefined): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 300,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    if (!out.Messages?.length) return all;
    all.push(...out.Messages);
  }
}

/** A received message as the Lambda event source mapping hands it over. */
function asRecord(message: Message): SQSRecord {
  const attributes: SQSRecord['messageAttributes'] = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {}))
    attributes[name] = { dataType: value.DataType ?? 'String', stringValue: value.StringValue };
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1',
      SentTimestamp: '0',
      SenderId: 'x',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: attributes,
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:test-conversions',
    awsRegion: 'us-east-1',
  };
}

describe('queues on the emulator', () => {
  it('publishes one message with its attributes and request id, and a batch of 23 in full', async () => {
    await withCorrelation('req-int-1', () =>
      sendMessage('conversions', {
        body: 'one',
        attributes: { source: stringAttribute('shopify') },
        correlate: true,
      }),
    );
    const failures = await sendMessages(
      'conversions',
      Array.from({ length: 23 }, (_, i) => ({ body: `m${i}` })),
    );
    expect(failures).toEqual([]);
    const received = await drain(env.CONVERSIONS_QUEUE_URL);
    expect(received.map((m) => m.Body).sort()).toEqual(
      ['one', ...Array.from({ length: 23 }, (_, i) => `m${i}`)].sort(),
    );
    const one = received.find((m) => m.Body === 'one');
    expect(one?.MessageAttributes?.source?.StringValue).toBe('shopify');
    expect(one?.MessageAttributes?.request_id?.StringValue).toBe('req-int-1');
  });

  it('dead-letters with the reason and the request id, and sends a waiting copy with its provider retries', async () => {
    for (const body of ['poison', 'unwell'])
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: env.CONVERSIONS_QUEUE_URL,
          MessageBody: body,
          MessageAttributes: { request_id: { DataType: 'String', StringValue: `req-${body}` } },
        }),
      );
    const records = (await drain(env.CONVERSIONS_QUEUE_URL)).map(asRecord);
    const handler = queueHandler('conversions', {
      noun: 'conversion message',
      handleRecord: async (r) =>
        r.body === 'poison'
          ? { kind: 'deadLetter', reason: 'not a conversion message' }
          : { kind: 'wait', delaySeconds: 0, providerRetries: 3 },
    });
    const response = await handler({ Records: records }, lambdaContext('worker'));
    expect(response.batchItemFailures).toEqual([]);

    const [dead] = await drain(env.CONVERSIONS_DLQ_URL);
    expect(dead?.Body).toBe('poison');
    expect(dead?.MessageAttributes?.reason?.StringValue).toBe('not a conversion message');
    expect(dead?.MessageAttributes?.attempts?.StringValue).toBe('1');
    expect(dead?.MessageAttributes?.request_id?.StringValue).toBe('req-poison');

    const [copy] = await drain(env.CONVERSIONS_QUEUE_URL);
    expect(copy?.Body).toBe('unwell');
    expect(copy?.MessageAttributes?.provider_retries?.StringValue).toBe('3');
    expect(copy?.MessageAttributes?.request_id?.StringValue).toBe('req-unwell');
  });

  it('hands a failed message back with its backoff: it stays out of sight', async () => {
    await sqs.send(new SendMessageCommand({ QueueUrl: env.CONVERSIONS_QUEUE_URL, MessageBody: 'flaky' }));
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: env.CONVERSIONS_QUEUE_URL,
        VisibilityTimeout: 0,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    const [message] = out.Messages ?? [];
    const handler = queueHandler('conversions', {
      noun: 'conversion message',
      handleRecord: async () => {
        throw new Error('transient');
      },
      backoff: { baseSeconds: () => 600 },
    });
    const response = await handler({ Records: [asRecord(message as Message)] }, lambdaContext('worker'));
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([message?.MessageId]);
    // Received with a visibility of 0 it would be back at once; the backoff made it 600 s.
    expect(await drain(env.CONVERSIONS_QUEUE_URL)).toEqual([]);
  });
});
