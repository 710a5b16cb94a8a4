import { SendMessageBatchCommand, type SendMessageCommand } from '@aws-sdk/client-sqs';
import { sqsClient } from '../../functions/shared/platform/aws/clients';
import { withCorrelation } from '../../functions/shared/platform/observability';
import {
  numberAttribute,
  sendMessage,
  sendMessages,
  stringAttribute,
} from '../../functions/shared/platform/queues/publisher';

const QUEUE = 'https://sqs.test/000000000000/conversions';
const DLQ = 'https://sqs.test/000000000000/conversions-dlq';

/** What each command sent asked for, in order; `answer` shapes the reply of a batch send. */
function fakeSqs(answer: (input: SendMessageBatchCommand['input']) => object = () => ({})) {
  const sent: Array<{ name: string; input: Record<string, unknown> }> = [];
  jest.spyOn(sqsClient(), 'send').mockImplementation((async (
    command: SendMessageCommand | SendMessageBatchCommand,
  ) => {
    sent.push({ name: command.constructor.name, input: command.input as unknown as Record<string, unknown> });
    return command instanceof SendMessageBatchCommand ? answer(command.input) : { MessageId: 'm' };
  }) as never);
  return sent;
}

beforeEach(() => {
  process.env.CONVERSIONS_QUEUE_URL = QUEUE;
  process.env.CONVERSIONS_DLQ_URL = DLQ;
});
afterEach(() => jest.restoreAllMocks());

describe('the queue publisher', () => {
  it('sends a body alone with no attribute or delay keys', async () => {
    const sent = fakeSqs();
    await sendMessage('conversions', { body: '{"a":1}' });
    expect(sent).toEqual([
      { name: 'SendMessageCommand', input: { QueueUrl: QUEUE, MessageBody: '{"a":1}' } },
    ]);
  });

  it('sends to the dead-letter queue of a queue, with its attributes', async () => {
    const sent = fakeSqs();
    await sendMessage(
      { deadLettersOf: 'conversions' },
      { body: 'x', attributes: { reason: stringAttribute('bad'), attempts: numberAttribute(3) } },
    );
    expect(sent[0]?.input).toEqual({
      QueueUrl: DLQ,
      MessageBody: 'x',
      MessageAttributes: {
        reason: { DataType: 'String', StringValue: 'bad' },
        attempts: { DataType: 'Number', StringValue: '3' },
      },
    });
  });

  it('rounds a delay into the 0 to 900 s SQS allows', async () => {
    const sent = fakeSqs();
    for (const delaySeconds of [12.4, -5, 5_000, 0])
      await sendMessage('conversions', { body: 'x', delaySeconds });
    expect(sent.map((s) => s.input.DelaySeconds)).toEqual([12, 0, 900, 0]);
  });

  it('carries the request id being handled when asked to, and only then', async () => {
    const sent = fakeSqs();
    await withCorrelation('req-42', async () => {
      await sendMessage('conversions', { body: 'x', correlate: true });
      await sendMessage('conversions', { body: 'y' });
    });
    await sendMessage('conversions', { body: 'z', correlate: true });
    expect(sent.map((s) => s.input.MessageAttributes)).toEqual([
      { request_id: { DataType: 'String', StringValue: 'req-42' } },
      undefined,
      undefined,
    ]);
  });

  it('sends a batch in requests of 10 and surfaces what SQS did not take, by index', async () => {
    const sent = fakeSqs((input) =>
      input.Entries?.length === 10
        ? {
            Successful: [],
            Failed: [{ Id: '3', Code: 'InternalError', Message: 'try again', SenderFault: false }],
          }
        : { Successful: [] },
    );
    const messages = Array.from({ length: 23 }, (_, i) => ({
      body: `m${i}`,
      ...(i === 22 ? { delaySeconds: 30 } : {}),
    }));
    const failures = await sendMessages('conversions', messages);
    expect(sent.map((s) => (s.input.Entries as unknown[]).length)).toEqual([10, 10, 3]);
    expect((sent[2]?.input.Entries as unknown[] | undefined)?.[2]).toEqual({
      Id: '2',
      MessageBody: 'm22',
      DelaySeconds: 30,
    });
    expect(failures).toEqual([
      { index: 3, code: 'InternalError', message: 'try again' },
      { index: 13, code: 'InternalError', message: 'try again' },
    ]);
  });

  it('answers no failures when SQS took every message, and sends nothing for none', async () => {
    const sent = fakeSqs();
    expect(await sendMessages('conversions', [{ body: 'a' }])).toEqual([]);
    expect(await sendMessages('conversions', [])).toEqual([]);
    expect(sent).toHaveLength(1);
  });

  it('names a failed entry without a code as unknown', async () => {
    fakeSqs(() => ({ Failed: [{ Id: '0', SenderFault: true }] }));
    expect(await sendMessages('conversions', [{ body: 'a' }])).toEqual([
      { index: 0, code: 'unknown', message: '' },
    ]);
  });

  it('rejects when SQS refuses the request', async () => {
    jest.spyOn(sqsClient(), 'send').mockImplementation((async () => {
      throw new Error('unavailable');
    }) as never);
    await expect(sendMessage('conversions', { body: 'x' })).rejects.toThrow('unavailable');
    await expect(sendMessages('conversions', [{ body: 'x' }])).rejects.toThrow('unavailable');
  });

  it('rejects when the queue is not configured', async () => {
    fakeSqs();
    delete process.env.CONVERSIONS_QUEUE_URL;
    await expect(sendMessage('conversions', { body: 'x' })).rejects.toThrow(/CONVERSIONS_QUEUE_URL/);
  });
});
