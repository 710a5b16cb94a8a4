import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import type { QueueId } from '../../../../contract/resources';
import { sqsClient } from '../aws/clients';
import { dlqUrl } from '../config/resources';
import { sendMessage } from './publisher';

/** A dead-lettered message as an operator sees it: why and how often, never its payload. */
export interface DeadLetter {
  message_id: string;
  queue: QueueId;
  reason: string | null;
  source: string | null;
  /** Deliveries before it was dead-lettered. */
  attempts: number;
  dead_lettered_at: string | null;
  size_bytes: number;
}

/** Attributes the dead-lettering added; they do not travel back with a redriven message. */
const DLQ_ATTRIBUTES = new Set(['reason', 'attempts']);

function attribute(message: Message, name: string): string | undefined {
  return message.MessageAttributes?.[name]?.StringValue;
}

function describe(queue: QueueId, message: Message): DeadLetter {
  const sent = message.Attributes?.SentTimestamp;
  // Dead-lettered by the consumer: it says how many deliveries it saw. Moved by SQS: the receive
  // count, less this inspection's own receive.
  const attempts = Number(
    attribute(message, 'attempts') ??
      Math.max(0, Number(message.Attributes?.ApproximateReceiveCount ?? 1) - 1),
  );
  return {
    message_id: message.MessageId ?? '',
    queue,
    // Dead-lettered by SQS after too many receives: the consumer kept failing.
    reason: attribute(message, 'reason') ?? 'delivery failed on every attempt (maxReceiveCount)',
    source: attribute(message, 'source') ?? null,
    attempts,
    dead_lettered_at: sent ? new Date(Number(sent)).toISOString() : null,
    size_bytes: Buffer.byteLength(message.Body ?? '', 'utf8'),
  };
}

/**
 * Up to `max` (at most 10) dead letters, left in place: they are read with a short visibility
 * timeout and made visible again at once.
 */
export async function peekDeadLetters(queue: QueueId, max = 10): Promise<DeadLetter[]> {
  const url = dlqUrl(queue);
  const out = await sqsClient().send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: Math.min(10, Math.max(1, max)),
      VisibilityTimeout: 10,
      WaitTimeSeconds: 0,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
    }),
  );
  const messages = out.Messages ?? [];
  if (messages.length) {
    await sqsClient().send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: url,
        Entries: messages.map((m, i) => ({
          Id: String(i),
          ReceiptHandle: m.ReceiptHandle ?? '',
          VisibilityTimeout: 0,
        })),
      }),
    );
  }
  return messages.map((m) => describe(queue, m));
}

/**
 * Moves dead letters back to their queue, oldest first, one at a time: sent to the queue, then
 * deleted from the dead-letter queue, so a crash in between leaves a duplicate (which the
 * consumer's dedup absorbs: the body, and so the delivery id, is unchanged) and never a loss.
 */
export async function redriveDeadLetters(
  queue: QueueId,
  options: {
    max?: number;
    onProgress?: (moved: number) => void;
    /**
     * Whether a dead letter may go back; one it refuses (a delivery for a person erased since)
     * is deleted instead, and counted in `dropped`.
     */
    admit?: (body: string) => Promise<boolean>;
  } = {},
): Promise<{ queue: QueueId; moved: number; dropped: number }> {
  const max = options.max ?? Number.POSITIVE_INFINITY;
  let moved = 0;
  let dropped = 0;
  while (moved + dropped < max) {
    const out = await sqsClient().send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl(queue),
        MaxNumberOfMessages: Math.min(10, max - moved - dropped),
        VisibilityTimeout: 60,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = out.Messages ?? [];
    if (!messages.length) break;
    for (const message of messages) {
      if (options.admit && !(await options.admit(message.Body ?? ''))) {
        await sqsClient().send(
          new DeleteMessageCommand({ QueueUrl: dlqUrl(queue), ReceiptHandle: message.ReceiptHandle ?? '' }),
        );
        dropped += 1;
        continue;
      }
      const attributes: Record<string, MessageAttributeValue> = {};
      for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
        if (!DLQ_ATTRIBUTES.has(name)) attributes[name] = value;
      }
      await sendMessage(queue, { body: message.Body ?? '', attributes });
      await sqsClient().send(
        new DeleteMessageCommand({ QueueUrl: dlqUrl(queue), ReceiptHandle: message.ReceiptHandle ?? '' }),
      );
      moved += 1;
      options.onProgress?.(moved);
    }
  }
  return { queue, moved, dropped };
}

/** How far an erasure's sweep of a dead-letter queue went. */
export interface PurgeResult {
  queue: QueueId;
  /** Dead letters read. */
  scanned: number;
  /** Dead letters deleted because `matches` named them. */
  purged: number;
  /** False when the sweep stopped at its bound with messages possibly left unread. */
  complete: boolean;
}

/**
 * Deletes the dead letters `matches` names and leaves the others in place. Every message is held
 * invisible while the sweep runs (so none is read twice) and made visible again at its end; the
 * sweep stops when a receive comes back empty or after `maxScanned` messages.
 */
export async function purgeDeadLetters(
  queue: QueueId,
  matches: (body: string) => boolean | Promise<boolean>,
  maxScanned = 5_000,
): Promise<PurgeResult> {
  const url = dlqUrl(queue);
  const kept: string[] = [];
  let scanned = 0;
  let purged = 0;
  let complete = false;
  try {
    while (scanned < maxScanned) {
      const out = await sqsClient().send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: Math.min(10, maxScanned - scanned),
          VisibilityTimeout: 120,
          WaitTimeSeconds: 0,
        }),
      );
      const messages = out.Messages ?? [];
      if (!messages.length) {
        complete = true;
        break;
      }
      for (const message of messages) {
        scanned += 1;
        if (await matches(message.Body ?? '')) {
          await sqsClient().send(
            new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle ?? '' }),
          );
          purged += 1;
        } else kept.push(message.ReceiptHandle ?? '');
      }
    }
  } finally {
    for (let i = 0; i < kept.length; i += 10) {
      await sqsClient().send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: url,
          Entries: kept.slice(i, i + 10).map((handle, n) => ({
            Id: String(n),
            ReceiptHandle: handle,
            VisibilityTimeout: 0,
          })),
        }),
      );
    }
  }
  return { queue, scanned, purged, complete };
}
