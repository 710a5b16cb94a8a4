import {
  type MessageAttributeValue,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { QueueId } from '../../../../contract/resources';
import { sqsClient } from '../aws/clients';
import { dlqUrl, queueUrl } from '../config/resources';
import { correlationAttributes } from '../observability';
import { BACKOFF_CAP_SECONDS } from './backoff';

/** A queue, or the dead-letter queue of one. */
export type Destination = QueueId | { deadLettersOf: QueueId };

/** One message to send. */
export interface OutgoingMessage {
  body: string;
  /** Seconds before the message can be received; rounded into 0 to 900 (the most SQS allows). */
  delaySeconds?: number;
  attributes?: Record<string, MessageAttributeValue>;
  /**
   * Adds the request id being handled (`request_id`), so the consumer handles the message under
   * the id of the request that queued it.
   */
  correlate?: boolean;
}

/** A message of a batch that SQS did not take. */
export interface SendFailure {
  /** Its index in the messages given. */
  index: number;
  code: string;
  message: string;
}

/** SQS takes at most 10 messages per batch request. */
export const SEND_BATCH_SIZE = 10;

export function stringAttribute(value: string): MessageAttributeValue {
  return { DataType: 'String', StringValue: value };
}

export function numberAttribute(value: number | string): MessageAttributeValue {
  return { DataType: 'Number', StringValue: String(value) };
}

function urlOf(destination: Destination): string {
  return typeof destination === 'string' ? queueUrl(destination) : dlqUrl(destination.deadLettersOf);
}

/** The attributes and delay of a message as SQS takes them; no key for what is absent. */
function options(message: OutgoingMessage): {
  DelaySeconds?: number;
  MessageAttributes?: Record<string, MessageAttributeValue>;
} {
  const attributes = { ...message.attributes, ...(message.correlate ? correlationAttributes() : {}) };
  return {
    ...(message.delaySeconds === undefined
      ? {}
      : {
          DelaySeconds: Math.min(BACKOFF_CAP_SECONDS, Math.max(0, Math.round(message.delaySeconds))),
        }),
    ...(Object.keys(attributes).length ? { MessageAttributes: attributes } : {}),
  };
}

/** Sends one message; resolves once SQS holds it durably, rejects otherwise. */
export async function sendMessage(destination: Destination, message: OutgoingMessage): Promise<void> {
  const url = urlOf(destination);
  await sqsClient().send(
    new SendMessageCommand({ QueueUrl: url, MessageBody: message.body, ...options(message) }),
  );
}

/**
 * Sends messages in batches of 10. Resolves with the messages SQS did not take (an empty list
 * when it took them all); rejects when a request itself fails.
 */
export async function sendMessages(
  destination: Destination,
  messages: readonly OutgoingMessage[],
): Promise<SendFailure[]> {
  const url = urlOf(destination);
  const failures: SendFailure[] = [];
  for (let start = 0; start < messages.length; start += SEND_BATCH_SIZE) {
    const entries: SendMessageBatchRequestEntry[] = messages
      .slice(start, start + SEND_BATCH_SIZE)
      .map((message, k) => ({ Id: String(k), MessageBody: message.body, ...options(message) }));
    const out = await sqsClient().send(new SendMessageBatchCommand({ QueueUrl: url, Entries: entries }));
    for (const failed of out.Failed ?? []) {
      failures.push({
        index: start + Number(failed.Id),
        code: failed.Code ?? 'unknown',
        message: failed.Message ?? '',
      });
    }
  }
  return failures;
}
