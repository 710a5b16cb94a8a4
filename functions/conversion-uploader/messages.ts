import type { SQSRecord } from 'aws-lambda';
import {
  type AdjustmentMessage,
  type ConversionMessage,
  parseQueueMessage,
  type RequestStatusMessage,
} from '../shared/features/conversions/model';
import type { TenantScope } from '../shared/features/tenancy/rules/scope';
import type { Settlement } from '../shared/platform/queues/handler';
import { providerRetriesOf } from '../shared/platform/queues/wait';
import { systemScope } from '../shared/platform/system-scope';

/**
 * What the conversions queue hands over: conversions to upload, adjustments to send and reads of
 * request statuses, each message with how often it was received and how often it waited.
 */

/** One queue message naming what to send. */
export interface Queued<Message> {
  messageId: string;
  message: Message;
  /** SQS ApproximateReceiveCount: 1 on the first delivery. */
  receiveCount: number;
  /** Waits after a platform failure while its circuit stayed closed (0 on a first delivery). */
  providerRetries?: number;
}

export type QueuedMessage = Queued<ConversionMessage>;
export type QueuedAdjustment = Queued<AdjustmentMessage>;

/** A batch of the queue, read: what each message asks for, and those no one can handle. */
export interface QueueBatch {
  conversions: QueuedMessage[];
  adjustments: QueuedAdjustment[];
  statusChecks: RequestStatusMessage[];
  /** Messages that are not conversion messages: dead-lettered at once. */
  invalid: Map<string, Settlement>;
}

function queued<Message>(record: SQSRecord, message: Message): Queued<Message> {
  return {
    messageId: record.messageId,
    message,
    receiveCount: Number(record.attributes.ApproximateReceiveCount || 1),
    providerRetries: providerRetriesOf(record),
  };
}

export function readBatch(records: readonly SQSRecord[]): QueueBatch {
  const batch: QueueBatch = { conversions: [], adjustments: [], statusChecks: [], invalid: new Map() };
  for (const record of records) {
    let data: unknown;
    try {
      data = JSON.parse(record.body);
    } catch {
      batch.invalid.set(record.messageId, { kind: 'deadLetter', reason: 'not JSON' });
      continue;
    }
    const message = parseQueueMessage(data);
    if (!message)
      batch.invalid.set(record.messageId, { kind: 'deadLetter', reason: 'not a conversion message' });
    else if (message.kind === 'request_status') batch.statusChecks.push(message);
    else if (message.kind === 'conversion') {
      const { kind: _kind, ...conversion } = message;
      batch.conversions.push(queued(record, conversion));
    } else batch.adjustments.push(queued(record, message));
  }
  return batch;
}

/** The items by key, in the order each key was first seen. */
export function groupBy<T, K>(items: Iterable<T>, keyOf: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

/** The queue message names the tenant; the uploader acts for it as a platform system actor. */
export function scopeFor(tenantId: string): TenantScope {
  return systemScope('conversion-uploader', tenantId);
}
