import type { EventEmitter } from 'node:events';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { FunctionId, QueueDefinition } from '../contract/resources';
import { invoke } from './lambda';

export interface BatchReport {
  queue: string;
  functionId: FunctionId;
  messageIds: string[];
  failedIds: string[];
  /** Set when the whole invocation failed (threw or timed out). */
  error?: string;
}

export interface PollerOptions {
  sqs: SQSClient;
  queue: QueueDefinition;
  queueUrl: string;
  region: string;
  /**
   * How long a failed message stays invisible before it is retried. In AWS that is the queue's
   * visibility timeout; locally it is shorter so retries and redrive are seen in seconds.
   */
  retryDelaySeconds: number;
  events: EventEmitter;
  /** Calls the consumer; the queue's consumer function by default. */
  invoker?: (event: SQSEvent) => Promise<unknown>;
}

function toRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const attrs = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attrs.ApproximateReceiveCount ?? '1',
      SentTimestamp: attrs.SentTimestamp ?? String(Date.now()),
      SenderId: attrs.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: attrs.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        {
          dataType: value.DataType ?? 'String',
          ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
        },
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/**
 * Runs a queue's consumer the way a Lambda event source mapping with `ReportBatchItemFailures`
 * does: receive up to the batch size, invoke, delete what succeeded, leave failures on the queue
 * (SQS moves a message to its dead-letter queue after `maxReceiveCount` receives).
 */
export class QueuePoller {
  private running = false;
  private loop: Promise<void> | undefined;
  private abort = new AbortController();

  constructor(private readonly options: PollerOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.abort = new AbortController();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    let arn: string | undefined;
    while (this.running) {
      try {
        arn ??= await this.queueArn();
        await this.pollOnce(arn);
      } catch (error) {
        if (!this.running) break;
        this.options.events.emit('error', error);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  private async queueArn(): Promise<string> {
    const { sqs, queueUrl } = this.options;
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
      { abortSignal: this.abort.signal },
    );
    return attrs.Attributes?.QueueArn ?? queueUrl;
  }

  private async pollOnce(queueArn: string): Promise<void> {
    const { sqs, queue, queueUrl, region } = this.options;
    const consumer = queue.consumer;
    if (!consumer) return;
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(consumer.batchSize, 10),
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      { abortSignal: this.abort.signal },
    );
    const messages = received.Messages ?? [];
    if (!messages.length) return;
    const event: SQSEvent = { Records: messages.map((m) => toRecord(m, queueArn, region)) };
    const report: BatchReport = {
      queue: queue.id,
      functionId: consumer.functionId,
      messageIds: event.Records.map((r) => r.messageId),
      failedIds: [],
    };
    try {
      const call = this.options.invoker ?? ((e: SQSEvent) => invoke(consumer.functionId, e, region));
      const result = (await call(event)) as SQSBatchResponse | undefined;
      report.failedIds = (result?.batchItemFailures ?? []).map((f) => f.itemIdentifier);
    } catch (error) {
      report.failedIds = [...report.messageIds];
      report.error = error instanceof Error ? error.message : String(error);
    }
    const failed = new Set(report.failedIds);
    const succeeded = messages.filter((m) => !failed.has(m.MessageId ?? ''));
    const retried = messages.filter((m) => failed.has(m.MessageId ?? ''));
    if (succeeded.length) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: succeeded.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
        }),
      );
    }
    if (retried.length) {
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: retried.map((m, i) => ({
            Id: String(i),
            ReceiptHandle: m.ReceiptHandle ?? '',
            VisibilityTimeout: this.options.retryDelaySeconds,
          })),
        }),
      );
    }
    this.options.events.emit('batch', report);
  }
}
