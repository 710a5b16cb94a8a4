import { ChangeMessageVisibilityCommand, type SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { retryDelaySeconds } from '../../functions/conversion-uploader/results';
import { statusDelaySeconds } from '../../functions/conversion-uploader/status';
import { sqsClient } from '../../functions/shared/platform/aws/clients';
import { correlationId, logger } from '../../functions/shared/platform/observability';
import { BACKOFF_CAP_SECONDS, backoffSeconds } from '../../functions/shared/platform/queues/backoff';
import {
  type DeadLettered,
  queueHandler,
  type Settlement,
} from '../../functions/shared/platform/queues/handler';
import { providerRetrySeconds } from '../../functions/shared/platform/queues/wait';
import { systemActor, systemScope } from '../../functions/shared/platform/system-scope';
import { lambdaContext, sqsRecord } from '../support/events';

const QUEUE = 'https://sqs.test/000000000000/webhooks';
const DLQ = 'https://sqs.test/000000000000/webhooks-dlq';

type Sent = { name: string; input: Record<string, unknown> };

function fakeSqs(fail?: (command: object) => boolean): Sent[] {
  const sent: Sent[] = [];
  jest.spyOn(sqsClient(), 'send').mockImplementation((async (command: SendMessageCommand) => {
    if (fail?.(command)) throw new Error(`${command.constructor.name} failed`);
    sent.push({ name: command.constructor.name, input: command.input as unknown as Record<string, unknown> });
    return {};
  }) as never);
  return sent;
}

function record(
  id: string,
  options: { receives?: number; requestId?: string; body?: string } = {},
): SQSRecord {
  const r = sqsRecord(id, options.body ?? `{"id":"${id}"}`, 'webhooks');
  r.attributes.ApproximateReceiveCount = String(options.receives ?? 1);
  if (options.requestId)
    r.messageAttributes = { request_id: { dataType: 'String', stringValue: options.requestId } };
  return r;
}

const event = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

async function invoke(handler: ReturnType<typeof queueHandler>, e: SQSEvent): Promise<SQSBatchResponse> {
  return (await handler(e, lambdaContext('worker'))) as SQSBatchResponse;
}

const failedIds = (response: SQSBatchResponse) =>
  response.batchItemFailures.map((f) => f.itemIdentifier).sort();

beforeEach(() => {
  process.env.WEBHOOKS_QUEUE_URL = QUEUE;
  process.env.WEBHOOKS_DLQ_URL = DLQ;
});
afterEach(() => jest.restoreAllMocks());

describe('queueHandler, one message at a time', () => {
  it('answers only the messages whose handling threw as batch item failures', async () => {
    const sent = fakeSqs();
    const handler = queueHandler('webhooks', {
      noun: 'webhook delivery',
      handleRecord: async (r) => {
        if (r.messageId.startsWith('bad')) throw new Error('store unavailable');
        return undefined;
      },
    });
    const response = await invoke(
      handler,
      event(record('ok-1'), record('bad-1'), record('ok-2'), record('bad-2')),
    );
    expect(failedIds(response)).toEqual(['bad-1', 'bad-2']);
    // Without a backoff the queue's visibility timeout applies: nothing is sent.
    expect(sent).toEqual([]);
  });

  it('dead-letters with the reason, the attempts, the sender and the request id, then counts it', async () => {
    const sent = fakeSqs();
    const letters: DeadLettered[] = [];
    const handler = queueHandler('webhooks', {
      noun: 'webhook delivery',
      handleRecord: async (r): Promise<Settlement> =>
        r.messageId === 'long'
          ? { kind: 'deadLetter', reason: 'x'.repeat(600) }
          : { kind: 'deadLetter', reason: 'unknown tenant t9', source: 'shopify' },
      onDeadLettered: (letter) => letters.push(letter),
    });
    const response = await invoke(
      handler,
      event(record('m1', { receives: 2, requestId: 'req-7', body: 'payload' }), record('long')),
    );
    expect(response.batchItemFailures).toEqual([]);
    const m1 = sent.find((s) => s.input.MessageBody === 'payload');
    expect(m1).toEqual({
      name: 'SendMessageCommand',
      input: {
        QueueUrl: DLQ,
        MessageBody: 'payload',
        MessageAttributes: {
          reason: { DataType: 'String', StringValue: 'unknown tenant t9' },
          attempts: { DataType: 'Number', StringValue: '2' },
          source: { DataType: 'String', StringValue: 'shopify' },
          request_id: { DataType: 'String', StringValue: 'req-7' },
        },
      },
    });
    const long = sent.find((s) => s.input.MessageBody === '{"id":"long"}');
    const attributes = long?.input.MessageAttributes as Record<string, { StringValue: string }>;
    expect(attributes.reason?.StringValue).toHaveLength(512);
    expect(Object.keys(attributes).sort()).toEqual(['attempts', 'reason']);
    expect(letters.map((l) => [l.record.messageId, l.source])).toEqual(
      expect.arrayContaining([
        ['m1', 'shopify'],
        ['long', undefined],
      ]),
    );
  });

  it('a message that cannot be dead-lettered is a failure, and is not counted', async () => {
    fakeSqs(() => true);
    const onDeadLettered = jest.fn();
    const handler = queueHandler('webhooks', {
      noun: 'webhook delivery',
      handleRecord: async () => ({ kind: 'deadLetter', reason: 'bad' }),
      onDeadLettered,
    });
    expect(failedIds(await invoke(handler, event(record('m1'))))).toEqual(['m1']);
    expect(onDeadLettered).not.toHaveBeenCalled();
  });

  it('handles each message under the request id that queued it, in the log keys too', async () => {
    fakeSqs();
    const append = jest.spyOn(logger, 'appendKeys');
    const remove = jest.spyOn(logger, 'removeKeys');
    const seen: Array<[string, string | undefined, number, number]> = [];
    const handler = queueHandler('webhooks', {
      noun: 'webhook delivery',
      handleRecord: async (r) => {
        seen.push([r.messageId, correlationId(), append.mock.calls.length, remove.mock.calls.length]);
        return undefined;
      },
    });
    await invoke(handler, event(record('a', { requestId: 'req-a' })));
    await invoke(handler, event(record('b')));
    // While `a` is handled its key is in place (added, not yet removed); `b` carries none.
    expect(seen).toEqual([
      ['a', 'req-a', 1, 0],
      ['b', undefined, 1, 1],
    ]);
    expect(append).toHaveBeenCalledWith({ correlation_id: 'req-a' });
    expect(remove).toHaveBeenCalledWith(['correlation_id']);
    expect(correlationId()).toBeUndefined();
  });

  it('backs a thrown message off by its receive count: base × 2^(receives − 1), at most 900 s', async () => {
    const sent = fakeSqs();
    const handler = queueHandler('webhooks', {
      noun: 'webhook delivery',
      handleRecord: async () => {
        throw new Error('transient');
      },
      backoff: { baseSeconds: () => 30 },
    });
    const receives = [1, 2, 3, 4, 6, 9];
    const response = await invoke(handler, event(...receives.map((n) => record(`r${n}`, { receives: n }))));
    expect(failedIds(response)).toHaveLength(receives.length);
    const delays = Object.fromEntries(
      sent
        .filter((s) => s.name === 'ChangeMessageVisibilityCommand')
        .map((s) => [s.input.ReceiptHandle, s.input.VisibilityTimeout]),
    );
    expect(delays).toEqual({
      'rh-r1': 30,
      'rh-r2': 60,
      'rh-r3': 120,
      'rh-r4': 240,
      'rh-r6': 900,
      'rh-r9': 900,
    });
    expect(sent.every((s) => s.input.QueueUrl === QUEUE)).toBe(true);
  });

  it('still fails the message when its visibility cannot be changed', async () => {
    fakeSqs((command) => command instanceof ChangeMessageVisibilityCommand);
    const warn = jest.spyOn(logger, 'warn');
    const handler = queueHandler('webhooks', {
      noun: 'webhook delivery',
      handleRecord: async () => {
        throw new Error('transient');
      },
      backoff: { baseSeconds: () => 30 },
    });
    expect(failedIds(await invoke(handler, event(record('m1'))))).toEqual(['m1']);
    expect(warn).toHaveBeenCalledWith('Could not delay the retry of a webhook delivery', expect.anything());
  });

  it('a waiting message is sent again with its delay and provider retries, and the original succeeds', async () => {
    const sent = fakeSqs();
    const onQueued = jest.fn();
    const handler = queueHandler('webhooks', {
      noun: 'webhook delivery',
      handleRecord: async () => ({ kind: 'wait', delaySeconds: 75, providerRetries: 2, onQueued }),
    });
    const response = await invoke(handler, event(record('m1', { requestId: 'req-1', body: 'b' })));
    expect(response.batchItemFailures).toEqual([]);
    expect(sent).toEqual([
      {
        name: 'SendMessageCommand',
        input: {
          QueueUrl: QUEUE,
          MessageBody: 'b',
          DelaySeconds: 75,
          MessageAttributes: {
            request_id: { DataType: 'String', StringValue: 'req-1' },
            provider_retries: { DataType: 'Number', StringValue: '2' },
          },
        },
      },
    ]);
    expect(onQueued).toHaveBeenCalledTimes(1);
  });

  it('a waiting message whose copy cannot be sent is a failure, and is not announced', async () => {
    fakeSqs(() => true);
    const onQueued = jest.fn();
    const handler = queueHandler('webhooks', {
      noun: 'webhook delivery',
      handleRecord: async () => ({ kind: 'wait', delaySeconds: 75, providerRetries: 1, onQueued }),
    });
    expect(failedIds(await invoke(handler, event(record('m1'))))).toEqual(['m1']);
    expect(onQueued).not.toHaveBeenCalled();
  });

  it('passes the Lambda context to the message handler', async () => {
    fakeSqs();
    const contexts: Context[] = [];
    const handler = queueHandler('backups', {
      noun: 'backup message',
      handleRecord: async (_r, context) => {
        contexts.push(context);
        return undefined;
      },
    });
    await invoke(handler, event(record('m1')));
    expect(contexts[0]?.functionName).toBe('worker');
  });
});

describe('queueHandler, a batch handled at once', () => {
  it('settles each message as the batch answers: done, retried after its own delay, waiting, dead-lettered', async () => {
    const sent = fakeSqs();
    const batches: string[][] = [];
    const handler = queueHandler('webhooks', {
      noun: 'conversion message',
      handleBatch: async (records) => {
        batches.push(records.map((r) => r.messageId));
        return new Map<string, Settlement>([
          ['done', { kind: 'done' }],
          ['retry', { kind: 'retry', delaySeconds: 4_000, reason: 'RESOURCE_EXHAUSTED' }],
          ['wait', { kind: 'wait', delaySeconds: 60, providerRetries: 1, reason: 'unwell' }],
          ['dead', { kind: 'deadLetter', reason: 'not JSON' }],
        ]);
      },
    });
    const response = await invoke(
      handler,
      event(record('done'), record('retry'), record('wait'), record('dead'), record('unanswered')),
    );
    expect(batches).toEqual([['done', 'retry', 'wait', 'dead', 'unanswered']]);
    expect(failedIds(response)).toEqual(['retry']);
    expect(
      sent.map((s) => [s.name, s.input.QueueUrl, s.input.VisibilityTimeout ?? s.input.DelaySeconds ?? null]),
    ).toEqual(
      expect.arrayContaining([
        ['ChangeMessageVisibilityCommand', QUEUE, 4_000],
        ['SendMessageCommand', QUEUE, 60],
        ['SendMessageCommand', DLQ, null],
      ]),
    );
    expect(sent).toHaveLength(3);
  });

  it('logs which request queued each message of the batch', async () => {
    fakeSqs();
    const info = jest.spyOn(logger, 'info');
    const handler = queueHandler('webhooks', {
      noun: 'conversion message',
      handleBatch: async () => new Map(),
    });
    await invoke(handler, event(record('a', { requestId: 'req-a' }), record('b')));
    expect(info).toHaveBeenCalledWith('Conversion messages received', {
      correlation: [{ message_id: 'a', request_id: 'req-a' }],
    });
  });

  it('fails the whole invocation when the batch cannot be handled', async () => {
    fakeSqs();
    const handler = queueHandler('webhooks', {
      noun: 'conversion message',
      handleBatch: async () => {
        throw new Error('leads table unavailable');
      },
    });
    await expect(invoke(handler, event(record('a')))).rejects.toThrow('leads table unavailable');
  });
});

describe('the one backoff', () => {
  it('doubles from the base, capped at 15 minutes', () => {
    expect([0, 1, 2, 3, 5, 20].map((step) => backoffSeconds(step, { baseSeconds: 30 }))).toEqual([
      30, 60, 120, 240, 900, 900,
    ]);
    expect(backoffSeconds(-3, { baseSeconds: 30 })).toBe(30);
    expect(backoffSeconds(4, { baseSeconds: -1 })).toBe(0);
    expect(BACKOFF_CAP_SECONDS).toBe(900);
  });

  it('jitters between half of the delay and all of it', () => {
    expect(backoffSeconds(1, { baseSeconds: 60, random: 0 })).toBe(60);
    expect(backoffSeconds(1, { baseSeconds: 60, random: 1 })).toBe(120);
    expect(backoffSeconds(1, { baseSeconds: 60, random: 0.5 })).toBe(90);
    expect(backoffSeconds(1, { baseSeconds: 60, random: 7 })).toBe(120);
    expect(backoffSeconds(1, { baseSeconds: 60, random: -1 })).toBe(60);
  });

  it('is never shorter than what the other side asked for, and never longer than its maximum', () => {
    expect(backoffSeconds(0, { baseSeconds: 30, atLeastSeconds: 45 })).toBe(45);
    expect(backoffSeconds(0, { baseSeconds: 30, atLeastSeconds: 5_000 })).toBe(900);
    expect(backoffSeconds(0, { baseSeconds: 30, atLeastSeconds: 5_000, maxSeconds: 12 * 3600 })).toBe(5_000);
    expect(backoffSeconds(0, { baseSeconds: 30, atLeastSeconds: 10 ** 6, maxSeconds: 12 * 3600 })).toBe(
      12 * 3600,
    );
  });
});

describe('each consumer keeps its delays through the one backoff', () => {
  it('webhook worker, a failed delivery: 30 s doubling by receive, no jitter, at most 900 s', () => {
    const webhook = (receives: number) => backoffSeconds(receives - 1, { baseSeconds: 30 });
    expect([1, 2, 3, 4, 5, 6].map(webhook)).toEqual([30, 60, 120, 240, 480, 900]);
  });

  it('conversion uploader, a counted retry: 60 s doubling by receive, jittered, up to 12 h for a Retry-After', () => {
    expect([1, 2, 3].map((n) => retryDelaySeconds(n, 60, 1))).toEqual([60, 120, 240]);
    expect([1, 2, 3].map((n) => retryDelaySeconds(n, 60, 0))).toEqual([30, 60, 120]);
    expect(retryDelaySeconds(1, 60, 0, 7_200)).toBe(7_200);
  });

  it('a provider failure while its circuit is closed: doubling by provider retries, at most 900 s', () => {
    expect([0, 1, 2, 3].map((n) => providerRetrySeconds(n, 30, 1))).toEqual([30, 60, 120, 240]);
    expect(providerRetrySeconds(0, 60, 0, 7_200)).toBe(900);
  });

  it('a request status read: 60 s doubling by checks, no jitter, at most 900 s', () => {
    expect([0, 1, 2, 3, 4].map((n) => statusDelaySeconds(n, 60))).toEqual([60, 120, 240, 480, 900]);
  });
});

describe('the system scope', () => {
  it('is the platform organisation’s owner, named by the function acting', () => {
    expect(systemActor('webhook-worker')).toEqual({
      tenantId: 'platform',
      role: 'owner',
      subject: 'webhook-worker',
      method: 'jwt',
    });
    expect(systemScope('ingest', 't1').tenantId).toBe('t1');
  });

  it('follows the configured platform organisation', () => {
    const before = process.env.PLATFORM_ORG_ID;
    process.env.PLATFORM_ORG_ID = 'org_root';
    try {
      expect(systemActor('ingest').tenantId).toBe('org_root');
      expect(systemScope('ingest', 't2').tenantId).toBe('t2');
    } finally {
      if (before === undefined) delete process.env.PLATFORM_ORG_ID;
      else process.env.PLATFORM_ORG_ID = before;
    }
  });
});
