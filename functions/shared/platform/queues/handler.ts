import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { QueueId } from '../../../../contract/resources';
import { sqsClient } from '../aws/clients';
import { queueUrl } from '../config/resources';
import { CORRELATION_ATTRIBUTE, logger, metrics, withCorrelation } from '../observability';
import { backoffSeconds } from './backoff';
import { numberAttribute, sendMessage, stringAttribute } from './publisher';
import { sendAgainLater } from './send-again';

/**
 * How one queued message ends.
 * - `done`: it is deleted.
 * - `deadLetter`: no retry can mend it; it goes to the dead-letter queue at once, with the reason
 *   (and the sender, when known), and is deleted from its queue.
 * - `wait`: a provider is unwell; a copy is sent again with a delay and `providerRetries`, and the
 *   original is deleted, so waiting spends no receive. `onQueued` runs once the copy is queued.
 * - `retry`: handed back to SQS (a counted receive), invisible for `delaySeconds`.
 */
export type Settlement =
  | { kind: 'done' }
  | { kind: 'deadLetter'; reason: string; source?: string }
  | { kind: 'wait'; delaySeconds: number; providerRetries: number; reason?: string; onQueued?(): void }
  | { kind: 'retry'; delaySeconds: number; reason: string };

/** A message just sent to the dead-letter queue. */
export interface DeadLettered {
  record: SQSRecord;
  reason: string;
  source?: string;
}

interface CommonOptions {
  /** What a message is, in log lines: `webhook delivery`, `conversion message`. */
  noun: string;
  /** The consumer's metric of a dead-lettered message. */
  onDeadLettered?(letter: DeadLettered): void;
  /**
   * When handling a message throws: it is handed back to SQS, invisible for the backoff of its
   * receive count (`backoffSeconds(receives − 1, { baseSeconds })`). Without it, the queue's
   * visibility timeout applies.
   */
  backoff?: { baseSeconds(): number };
}

export interface RecordHandlerOptions extends CommonOptions {
  /** Handles one message; resolves with how it ends (nothing: done), or throws to be retried. */
  handleRecord(record: SQSRecord, context: Context): Promise<Settlement | undefined>;
}

export interface BatchHandlerOptions extends CommonOptions {
  /**
   * Handles the whole batch at once (messages grouped into requests) and answers how each
   * message ends, by message id (a message left out is done). Throwing fails the whole batch.
   */
  handleBatch(records: readonly SQSRecord[], context: Context): Promise<ReadonlyMap<string, Settlement>>;
}

export type QueueHandlerOptions = RecordHandlerOptions | BatchHandlerOptions;

/** A message handed back to SQS on purpose (`retry`), with the reason. */
export class RetryLater extends Error {
  override readonly name = 'RetryLater';
}

/** Entries per correlation log line: a CloudWatch log event holds at most 256 KB. */
const CORRELATION_LOG_CHUNK = 500;

const capitalised = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** The request id that queued the message, if it carries one. */
export function requestIdOf(record: SQSRecord): string | undefined {
  return record.messageAttributes?.[CORRELATION_ATTRIBUTE]?.stringValue;
}

function receiveCount(record: SQSRecord): number {
  return Number(record.attributes.ApproximateReceiveCount || 1);
}

/** Runs `run` under the request id that queued the message: in the log keys and on what it sends. */
async function correlated<T>(record: SQSRecord, run: () => Promise<T>): Promise<T> {
  const requestId = requestIdOf(record);
  if (requestId) logger.appendKeys({ correlation_id: requestId });
  try {
    return await withCorrelation(requestId, run);
  } finally {
    if (requestId) logger.removeKeys(['correlation_id']);
  }
}

/**
 * Builds the Lambda handler of a queue consumer: Powertools logging and metrics, partial batch
 * responses (only the failed messages come back), each message handled under the request id that
 * queued it, dead-lettering with a reason, waiting for a provider without spending receives, and
 * the backoff of retried messages.
 */
export function queueHandler(queue: QueueId, options: QueueHandlerOptions) {
  const noun = options.noun;

  /** Moves the message to the dead-letter queue with why and after how many deliveries. */
  async function deadLetter(record: SQSRecord, reason: string, source?: string): Promise<void> {
    await sendMessage(
      { deadLettersOf: queue },
      {
        body: record.body,
        attributes: {
          reason: stringAttribute(reason.slice(0, 512)),
          attempts: numberAttribute(record.attributes.ApproximateReceiveCount || '1'),
          ...(source ? { source: stringAttribute(source) } : {}),
        },
        correlate: true,
      },
    );
    options.onDeadLettered?.({ record, reason, ...(source ? { source } : {}) });
    logger.error(`${capitalised(noun)} dead-lettered`, { message_id: record.messageId, reason });
  }

  /** Leaves a message handed back to SQS invisible for `seconds`; a failure only costs the delay. */
  async function delay(record: SQSRecord, seconds: number): Promise<void> {
    try {
      await sqsClient().send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl(queue),
          ReceiptHandle: record.receiptHandle,
          VisibilityTimeout: seconds,
        }),
      );
    } catch (error) {
      logger.warn(`Could not delay the retry of a ${noun}`, { message_id: record.messageId, error });
    }
  }

  async function settle(record: SQSRecord, settlement: Settlement | undefined): Promise<void> {
    if (!settlement || settlement.kind === 'done') return;
    if (settlement.kind === 'deadLetter') return deadLetter(record, settlement.reason, settlement.source);
    if (settlement.kind === 'wait') {
      await sendAgainLater(queue, record, settlement.delaySeconds, settlement.providerRetries);
      settlement.onQueued?.();
      return;
    }
    await delay(record, settlement.delaySeconds);
    throw new RetryLater(settlement.reason);
  }

  /** One message handled alone: a throw is a counted retry, after the backoff if configured. */
  async function handleOne(
    handle: RecordHandlerOptions['handleRecord'],
    record: SQSRecord,
    context: Context,
  ): Promise<void> {
    let settlement: Settlement | undefined;
    try {
      settlement = await handle(record, context);
    } catch (error) {
      if (options.backoff) {
        await delay(
          record,
          backoffSeconds(receiveCount(record) - 1, { baseSeconds: options.backoff.baseSeconds() }),
        );
      }
      throw error;
    }
    await settle(record, settlement);
  }

  /** Which request queued each message of a batch handled as one, so its path can be followed. */
  function logReceived(records: readonly SQSRecord[]): void {
    const entries = records.flatMap((record) => {
      const requestId = requestIdOf(record);
      return requestId ? [{ message_id: record.messageId, request_id: requestId }] : [];
    });
    for (let i = 0; i < entries.length; i += CORRELATION_LOG_CHUNK) {
      logger.info(`${capitalised(noun)}s received`, {
        correlation: entries.slice(i, i + CORRELATION_LOG_CHUNK),
      });
    }
  }

  const processor = new BatchProcessor(EventType.SQS);

  return middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics))
    .handler(async (event: SQSEvent, context: Context) => {
      let recordHandler: (record: SQSRecord) => Promise<void>;
      if ('handleBatch' in options) {
        logReceived(event.Records);
        const settlements = await options.handleBatch(event.Records, context);
        recordHandler = (record) =>
          correlated(record, () => settle(record, settlements.get(record.messageId)));
      } else {
        const handle = options.handleRecord;
        recordHandler = (record) => correlated(record, () => handleOne(handle, record, context));
      }
      return processPartialResponse(event, recordHandler, processor, {
        context,
        throwOnFullBatchFailure: false,
      });
    });
}
