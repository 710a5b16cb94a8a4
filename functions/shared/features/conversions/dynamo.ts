import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { DynamoRepository, recordOf } from '../../platform/dynamo/repository';
import { SEND_BATCH_SIZE, sendMessage, sendMessages } from '../../platform/queues/publisher';
import type { StoredLead } from '../leads/model';
import { EXPIRY_ATTRIBUTE, expiryOf, isExpired, notExpiredFilter } from '../retention/rules';
import { type RetentionOf, retentionOfTenant } from '../tenancy/dynamo-retention';
import type { TenantScope } from '../tenancy/rules/scope';
import type { Adjustment, AdjustmentMessage, Conversion, ConversionMessage, Platform } from './model';
import type { LeadConversions } from './ports';
import { conversionIdsOfLead, matchOf, orderConversionIds } from './rules/plan';

const tenantPk = (scope: TenantScope) => `TENANT#${scope.tenantId}`;
const convSk = (id: string) => `CONV#${id}`;
const statusPk = (scope: TenantScope, status: string) => `TENANT#${scope.tenantId}#STATUS#${status}`;
const adjSk = (conversionId: string, id = '') => `ADJ#${conversionId}#${id}`;
/** An order's index item, written before conversion ids derived from the order alone: read, deleted, never written. */
const orderSk = (orderKey: string) => `ORDER#${orderKey}`;

type Item = Record<string, unknown>;

function fromItem(item: Item): Conversion {
  const conversion = recordOf<Conversion>(item);
  return { ...conversion, match: matchOf(conversion) };
}

/**
 * Conversions in DynamoDB and their queue, reached only through a tenant scope. Every write
 * sets the item's expiry (its last change plus the tenant's `conversions_days`), which DynamoDB's
 * TTL deletes it by; reads ignore what has expired and is not deleted yet.
 */
export class DynamoConversionStore extends DynamoRepository implements LeadConversions {
  constructor(
    client?: DynamoDBDocumentClient,
    private readonly retention: RetentionOf = (tenantId) => retentionOfTenant()(tenantId),
    private readonly now: () => Date = () => new Date(),
  ) {
    super('conversions', client);
  }

  /** When an item of the tenant changed at `changedAt` expires. */
  private async expiryOf(scope: TenantScope, changedAt: Date | string): Promise<number> {
    const { conversions_days } = await this.retention(scope.tenantId);
    return expiryOf(changedAt, conversions_days);
  }

  /**
   * Stores the conversion, then queues it: a conversion is stored before it can be uploaded.
   * Conversion ids are deterministic where a retry could create one twice; an id that exists
   * already is left alone ('exists').
   */
  async queue(scope: TenantScope, conversion: Conversion): Promise<'queued' | 'exists'> {
    const stored = await this.conditionally(
      new PutCommand({
        TableName: this.table,
        Item: {
          pk: tenantPk(scope),
          sk: convSk(conversion.id),
          // The status index holds every status but `uploaded` (dynamo-log.ts, list).
          ...(conversion.status === 'uploaded'
            ? {}
            : {
                gsi1pk: statusPk(scope, conversion.status),
                gsi1sk: `${conversion.conversion_time}#${conversion.id}`,
              }),
          ...conversion,
          // From the write, not the conversion's own times: an order from long ago is kept as
          // long as one from today.
          [EXPIRY_ATTRIBUTE]: await this.expiryOf(scope, this.now()),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    if (!stored) return 'exists';
    const message: ConversionMessage = {
      version: 1,
      tenant_id: scope.tenantId,
      conversion_id: conversion.id,
    };
    await sendMessage('conversions', { body: JSON.stringify(message), correlate: true });
    return 'queued';
  }

  /**
   * Queues again every conversion of the platform still waiting in the log (status `queued`), e.g.
   * after the tenant connected the platform again; the uploader skips any that left the queue
   * meanwhile, so a duplicate message is harmless. Answers how many were queued.
   */
  async requeueWaiting(scope: TenantScope, platform: Platform): Promise<number> {
    let queued = 0;
    const live = notExpiredFilter(this.now());
    const pages = this.queryPages({
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk',
      FilterExpression: `platform = :platform AND (${live.expression})`,
      ExpressionAttributeNames: live.names,
      ExpressionAttributeValues: {
        ':pk': statusPk(scope, 'queued'),
        ':platform': platform,
        ...live.values,
      },
    });
    for await (const items of pages) {
      const ids = items.map((item) => item.id as string);
      for (let i = 0; i < ids.length; i += SEND_BATCH_SIZE) {
        const messages = ids.slice(i, i + SEND_BATCH_SIZE).map((id) => {
          const message: ConversionMessage = { version: 1, tenant_id: scope.tenantId, conversion_id: id };
          return { body: JSON.stringify(message) };
        });
        const failed = await sendMessages('conversions', messages);
        if (failed.length) throw new Error(`${failed.length} conversions could not be queued again`);
        queued += messages.length;
      }
    }
    return queued;
  }

  /**
   * Stores an adjustment, then queues it; an adjustment with this id already stored is left
   * alone ('exists').
   */
  async queueAdjustment(
    scope: TenantScope,
    adjustment: Adjustment,
    delaySeconds = 0,
  ): Promise<'queued' | 'exists'> {
    const stored = await this.conditionally(
      new PutCommand({
        TableName: this.table,
        Item: {
          pk: tenantPk(scope),
          sk: adjSk(adjustment.conversion_id, adjustment.id),
          ...adjustment,
          [EXPIRY_ATTRIBUTE]: await this.expiryOf(scope, this.now()),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    if (!stored) return 'exists';
    await this.queueAdjustmentMessage(scope, adjustment.conversion_id, adjustment.id, delaySeconds);
    return 'queued';
  }

  async queueAdjustmentMessage(
    scope: TenantScope,
    conversionId: string,
    adjustmentId: string,
    delaySeconds = 0,
  ): Promise<void> {
    const message: AdjustmentMessage = {
      version: 1,
      kind: 'adjustment',
      tenant_id: scope.tenantId,
      conversion_id: conversionId,
      adjustment_id: adjustmentId,
    };
    await sendMessage('conversions', { body: JSON.stringify(message), delaySeconds });
  }

  /** The adjustments of a conversion, oldest id first. */
  async adjustments(scope: TenantScope, conversionId: string): Promise<Adjustment[]> {
    const items = await this.queryAll({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :adj)',
      ExpressionAttributeValues: { ':pk': tenantPk(scope), ':adj': adjSk(conversionId) },
      ConsistentRead: true,
    });
    const now = this.now();
    return items.filter((item) => !isExpired(item, now)).map((item) => recordOf<Adjustment>(item));
  }

  /**
   * The ids of an order's conversions (`<source>:<order id>`): those derived from the order, and
   * those an order index item lists for an order that became conversions before their ids derived
   * from the order alone (such items are no longer written, and expire with the order's data).
   * An id need not exist: the caller reads each.
   */
  async conversionsOfOrder(scope: TenantScope, orderKey: string): Promise<string[]> {
    const { Item: item } = await this.client.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: tenantPk(scope), sk: orderSk(orderKey) },
        ConsistentRead: true,
      }),
    );
    const earlier = isExpired(item, this.now())
      ? undefined
      : (item?.conversion_ids as Set<string> | undefined);
    return [...new Set([...orderConversionIds(orderKey), ...[...(earlier ?? [])].sort()])];
  }

  /** These conversions, those held (with `includeExpired`, also those expired and not deleted yet). */
  private async many(
    scope: TenantScope,
    ids: readonly string[],
    options: { includeExpired?: boolean } = {},
  ): Promise<Conversion[]> {
    const { items, unread } = await this.batchGet(
      [...new Set(ids)].map((id) => ({ pk: tenantPk(scope), sk: convSk(id) })),
      8,
    );
    if (unread.length) throw new Error(`${unread.length} conversions could not be read`);
    const now = this.now();
    return items
      .filter((item) => options.includeExpired || !isExpired(item, now))
      .map(fromItem)
      .sort((a, b) => a.conversion_time.localeCompare(b.conversion_time) || a.id.localeCompare(b.id));
  }

  /** Whether any of these conversions is held. */
  async anyOf(scope: TenantScope, ids: readonly string[]): Promise<boolean> {
    return ids.length > 0 && (await this.many(scope, ids)).length > 0;
  }

  /**
   * The conversions of a lead, found by the ids they can have (conversions/plan.ts); with
   * `includeExpired`, also those expired and not deleted yet (erasure strips them too).
   */
  async ofLead(
    scope: TenantScope,
    lead: Pick<StoredLead, 'id' | 'order_keys' | 'conversion_ids'>,
    options: { includeExpired?: boolean } = {},
  ): Promise<Conversion[]> {
    return (await this.many(scope, conversionIdsOfLead(lead), options)).filter(
      (conversion) => conversion.lead_id === undefined || conversion.lead_id === lead.id,
    );
  }

  /**
   * Cancels a conversion that has not been uploaded yet; false when it already left the queue
   * (uploaded, failed) or does not exist.
   */
  async cancel(
    scope: TenantScope,
    id: string,
    reason: NonNullable<Conversion['cancel_reason']>,
  ): Promise<boolean> {
    const at = this.now();
    const now = at.toISOString();
    return this.conditionally(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: tenantPk(scope), sk: convSk(id) },
        UpdateExpression:
          'SET #status = :cancelled, cancel_reason = :reason, updated_at = :now, gsi1pk = :gsi, #expires_at = :expires',
        ConditionExpression: '#status IN (:queued, :rescheduled)',
        ExpressionAttributeNames: { '#status': 'status', '#expires_at': EXPIRY_ATTRIBUTE },
        ExpressionAttributeValues: {
          ':expires': await this.expiryOf(scope, at),
          ':cancelled': 'cancelled',
          ':reason': reason,
          ':now': now,
          ':queued': 'queued',
          ':rescheduled': 'rescheduled',
          ':gsi': statusPk(scope, 'cancelled'),
        },
      }),
    );
  }

  /** Erasure: removes the click id and order id (personal data) and cancels what is still queued. */
  async erase(scope: TenantScope, conversion: Conversion): Promise<void> {
    await this.cancel(scope, conversion.id, 'erased');
    await this.client.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: tenantPk(scope), sk: convSk(conversion.id) },
        UpdateExpression:
          'REMOVE click_id, order_id, order_key, lead_id, gsi2pk, gsi2sk SET updated_at = :now',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':now': new Date().toISOString() },
      }),
    );
    // The order's index names the order id: it goes too.
    if (conversion.order_key)
      await this.client.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: tenantPk(scope), sk: orderSk(conversion.order_key) },
        }),
      );
  }
}
