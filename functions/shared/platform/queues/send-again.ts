import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { QueueId } from '../../../../contract/resources';
import { numberAttribute, sendMessage } from './publisher';
import { PROVIDER_RETRIES_ATTRIBUTE } from './wait';

/**
 * Puts the message's body back on its queue, invisible for `delaySeconds`, with its attributes
 * and `provider_retries`. The caller then lets the original succeed (it is deleted).
 */
export async function sendAgainLater(
  queue: QueueId,
  record: SQSRecord,
  delaySeconds: number,
  providerRetries: number,
): Promise<void> {
  const attributes: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(record.messageAttributes ?? {})) {
    if (name === PROVIDER_RETRIES_ATTRIBUTE || value.stringValue === undefined) continue;
    attributes[name] = { DataType: value.dataType, StringValue: value.stringValue };
  }
  attributes[PROVIDER_RETRIES_ATTRIBUTE] = numberAttribute(providerRetries);
  await sendMessage(queue, { body: record.body, delaySeconds, attributes });
}
