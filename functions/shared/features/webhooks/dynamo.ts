import { createHash } from 'node:crypto';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoRepository } from '../../platform/dynamo/repository';
import { EXPIRY_ATTRIBUTE, epochSeconds, isExpired } from '../retention/rules';
import type { WebhookEnvelope } from './model';

/** Seven days: longer than any sender retries a delivery. */
export const HANDLED_SECONDS = 7 * 24 * 3600;

/** What handling a delivery came to. */
export interface HandledOutcome {
  outcome: 'processed' | 'ignored';
  detail?: string;
}

/**
 * The same (tenant, source, delivery id) is another delivery from another tenant or source, so
 * nobody can make a delivery meant for someone else vanish by sending its id first.
 */
function keyOf(envelope: Pick<WebhookEnvelope, 'tenant_id' | 'source' | 'delivery_id'>): string {
  const hash = createHash('sha256')
    .update([envelope.tenant_id, envelope.source, envelope.delivery_id].join('\n'))
    .digest('hex');
  return `WEBHOOK#${hash}`;
}

/**
 * Deliveries handled in the last seven days, one item each, written once the delivery is handled
 * (one write unit). A delivery found here is acknowledged without being handled again. Two copies
 * of one delivery handled at the same moment are both handled: everything a delivery does is
 * idempotent on its own (a lead per person and per external id, conversion ids derived from the
 * order), so the second changes nothing.
 */
export class DynamoHandledDeliveries extends DynamoRepository {
  constructor(
    client?: DynamoDBDocumentClient,
    table?: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    super('dedup', client, table);
  }

  /** How the delivery was handled, if it was in the last seven days. */
  async find(envelope: WebhookEnvelope): Promise<HandledOutcome | undefined> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.table, Key: { pk: keyOf(envelope) }, ConsistentRead: true }),
    );
    if (!out.Item || isExpired(out.Item, this.now())) return undefined;
    return { outcome: out.Item.outcome === 'ignored' ? 'ignored' : 'processed', detail: 'handled before' };
  }

  /** Records the delivery as handled (a copy that recorded it first is left as it is). */
  async record(envelope: WebhookEnvelope, handled: Pick<HandledOutcome, 'outcome'>): Promise<void> {
    const now = epochSeconds(this.now());
    await this.conditionally(
      new PutCommand({
        TableName: this.table,
        Item: { pk: keyOf(envelope), outcome: handled.outcome, [EXPIRY_ATTRIBUTE]: now + HANDLED_SECONDS },
        ConditionExpression: 'attribute_not_exists(pk) OR #expires_at <= :now',
        ExpressionAttributeNames: { '#expires_at': EXPIRY_ATTRIBUTE },
        ExpressionAttributeValues: { ':now': now },
      }),
    );
  }
}
