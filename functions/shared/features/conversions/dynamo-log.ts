import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { decodeCursor, type Page } from '../../platform/dynamo/pagination';
import { DynamoRepository, recordOf } from '../../platform/dynamo/repository';
import { EXPIRY_ATTRIBUTE, expiryOf, isExpired } from '../retention/rules';
import { type RetentionOf, retentionOfTenant } from '../tenancy/dynamo-retention';
import type { TenantScope } from '../tenancy/rules/scope';
import type {
  Adjustment,
  AdjustmentStatus,
  Conversion,
  ConversionFieldWarning,
  ConversionStatus,
  FailureKind,
  Platform,
  ProcessingStatus,
} from './model';
import { matchOf } from './rules/plan';

const tenantPk = (tenantId: string) => `TENANT#${tenantId}`;
const convSk = (id: string) => `CONV#${id}`;
const statusPk = (tenantId: string, status: string) => `TENANT#${tenantId}#STATUS#${status}`;

/** A conversion as stored, with what the uploader adds to it. */
export interface LoggedConversion extends Conversion {
  google_request_id?: string;
  /** What Google reported later for the request that carried it (Data Manager API). */
  processing?: RecordedProcessing;
  uploaded_at?: string;
  /** A rescheduled conversion is not sent before this time. */
  next_attempt_at?: string;
}

/** What an upload attempt did to one conversion. */
export interface AttemptOutcome {
  status: Extract<ConversionStatus, 'queued' | 'uploaded' | 'failed' | 'rescheduled'>;
  error?: string;
  requestId?: string;
  nextAttemptAt?: string;
  /** False when nothing was sent (e.g. no Google Ads account connected): attempts stay as they are. */
  attempted?: boolean;
  /** Optional fields the platform accepted the conversion without (replaces the last attempt's). */
  fieldWarnings?: ConversionFieldWarning[];
}

/** A processing outcome as recorded, with when it was read. */
export interface RecordedProcessing extends ProcessingStatus {
  request_id: string;
  checked_at: string;
}

/** One upload request: its size and what came of it. */
export interface UploadBatchRecord {
  id: string;
  tenant_id: string;
  platform?: Platform;
  /** The API used, e.g. `data_manager`. */
  transport?: string;
  /** The platform account (Google Ads customer id). */
  customer_id: string;
  size: number;
  successes: number;
  failures: number;
  rescheduled: number;
  duration_ms: number;
  outcome: 'completed' | FailureKind;
  google_request_id?: string;
  /** The conversions the request carried. */
  conversion_ids?: string[];
  processing?: RecordedProcessing;
  created_at: string;
}

function fromItem(item: Record<string, unknown>): LoggedConversion {
  return recordOf<LoggedConversion>(item);
}

/** An item without its keys and expiry, or nothing when it has expired. */
function liveRecord<T>(item: Record<string, unknown> | undefined, now: Date): T | undefined {
  if (!item || isExpired(item, now)) return undefined;
  const { pk: _pk, sk: _sk, [EXPIRY_ATTRIBUTE]: _expiresAt, ...record } = item;
  return record as T;
}

/**
 * The clauses every recorded attempt has, on a conversion or an adjustment: the attempt counted
 * (unless it was not one), its error or none, the request id Google gave it.
 */
function attemptClauses(
  outcome: { attempted?: boolean; error?: string; requestId?: string },
  set: string[],
  remove: string[],
  values: Record<string, unknown>,
): void {
  if (outcome.attempted !== false) {
    set.push('attempts = if_not_exists(attempts, :zero) + :one');
    values[':zero'] = 0;
    values[':one'] = 1;
  }
  if (outcome.error) {
    set.push('last_error = :error');
    values[':error'] = outcome.error.slice(0, 500);
  } else remove.push('last_error');
  if (outcome.requestId) {
    set.push('google_request_id = :request');
    values[':request'] = outcome.requestId;
  }
}

/**
 * The conversion log: reading conversions and recording upload attempts and batches. Each
 * change moves the item's expiry to the tenant's `conversions_days` from then; what has expired
 * is not read, though DynamoDB's TTL may not have deleted it yet.
 */
export class DynamoConversionLog extends DynamoRepository {
  constructor(
    client?: DynamoDBDocumentClient,
    private readonly retention: RetentionOf = (tenantId) => retentionOfTenant()(tenantId),
    private readonly now: () => Date = () => new Date(),
  ) {
    super('conversions', client);
  }

  private async expiryOf(tenantId: string, changedAt: Date | string): Promise<number> {
    const { conversions_days } = await this.retention(tenantId);
    return expiryOf(changedAt, conversions_days);
  }

  async get(tenantId: string, id: string): Promise<LoggedConversion | undefined> {
    const out = await this.client.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: tenantPk(tenantId), sk: convSk(id) },
        ConsistentRead: true,
      }),
    );
    return out.Item && !isExpired(out.Item, this.now()) ? fromItem(out.Item) : undefined;
  }

  /**
   * Records an attempt on a conversion still waiting (queued or rescheduled); false when it left
   * that state meanwhile (cancelled by a consent withdrawal, uploaded by another delivery).
   */
  async recordAttempt(tenantId: string, id: string, outcome: AttemptOutcome, now: Date): Promise<boolean> {
    const at = now.toISOString();
    // An uploaded conversion leaves the status index (one index write, not two): the uploaded
    // ones, most of the log, are listed from the tenant's conversions (list below).
    const indexed = outcome.status !== 'uploaded';
    const set = ['#status = :status', 'updated_at = :now', ...(indexed ? ['gsi1pk = :gsi'] : [])];
    const remove: string[] = indexed ? [] : ['gsi1pk', 'gsi1sk'];
    const values: Record<string, unknown> = {
      ':status': outcome.status,
      ':now': at,
      ...(indexed ? { ':gsi': statusPk(tenantId, outcome.status) } : {}),
      ':queued': 'queued',
      ':rescheduled': 'rescheduled',
    };
    attemptClauses(outcome, set, remove, values);
    if (outcome.fieldWarnings?.length) {
      set.push('field_warnings = :warnings');
      values[':warnings'] = outcome.fieldWarnings;
    } else if (outcome.attempted !== false) remove.push('field_warnings');
    if (outcome.status === 'uploaded') {
      set.push('uploaded_at = :now');
      remove.push('next_attempt_at');
    }
    if (outcome.nextAttemptAt) {
      set.push('next_attempt_at = :next');
      values[':next'] = outcome.nextAttemptAt;
    }
    return this.settle(
      tenantId,
      now,
      { pk: tenantPk(tenantId), sk: convSk(id) },
      set,
      remove,
      values,
      '#status IN (:queued, :rescheduled)',
    );
  }

  async recordBatch(batch: UploadBatchRecord): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          pk: tenantPk(batch.tenant_id),
          sk: `BATCH#${batch.id}`,
          ...batch,
          [EXPIRY_ATTRIBUTE]: await this.expiryOf(batch.tenant_id, this.now()),
        },
      }),
    );
  }

  async batch(tenantId: string, id: string): Promise<UploadBatchRecord | undefined> {
    const out = await this.client.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: tenantPk(tenantId), sk: `BATCH#${id}` },
        ConsistentRead: true,
      }),
    );
    return liveRecord<UploadBatchRecord>(out.Item, this.now());
  }

  /** Records Google's processing outcome on the batch and on each conversion it carried. */
  async recordProcessing(batch: UploadBatchRecord, processing: RecordedProcessing): Promise<void> {
    const expires = await this.expiryOf(batch.tenant_id, this.now());
    await this.client.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: tenantPk(batch.tenant_id), sk: `BATCH#${batch.id}` },
        UpdateExpression: 'SET processing = :p, #expires_at = :expires',
        ExpressionAttributeNames: { '#expires_at': EXPIRY_ATTRIBUTE },
        ExpressionAttributeValues: { ':p': processing, ':expires': expires },
      }),
    );
    const ids = batch.conversion_ids ?? [];
    for (let i = 0; i < ids.length; i += 25) {
      await Promise.all(
        ids.slice(i, i + 25).map(async (id) => {
          // Erased, or carried by a later request meanwhile: that one's outcome is its own.
          await this.conditionally(
            new UpdateCommand({
              TableName: this.table,
              Key: { pk: tenantPk(batch.tenant_id), sk: convSk(id) },
              UpdateExpression: 'SET processing = :p, #expires_at = :expires',
              ConditionExpression: 'attribute_exists(pk) AND google_request_id = :request',
              ExpressionAttributeNames: { '#expires_at': EXPIRY_ATTRIBUTE },
              ExpressionAttributeValues: {
                ':p': processing,
                ':request': processing.request_id,
                ':expires': expires,
              },
            }),
          );
        }),
      );
    }
  }

  async adjustment(tenantId: string, conversionId: string, id: string): Promise<Adjustment | undefined> {
    const out = await this.client.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: tenantPk(tenantId), sk: `ADJ#${conversionId}#${id}` },
        ConsistentRead: true,
      }),
    );
    return liveRecord<Adjustment>(out.Item, this.now());
  }

  /** Records an attempt on an adjustment still queued; false when it was settled meanwhile. */
  async recordAdjustment(
    tenantId: string,
    conversionId: string,
    id: string,
    outcome: { status: AdjustmentStatus; error?: string; requestId?: string; attempted?: boolean },
    now: Date,
  ): Promise<boolean> {
    const set = ['#status = :status', 'updated_at = :now'];
    const values: Record<string, unknown> = {
      ':status': outcome.status,
      ':now': now.toISOString(),
      ':queued': 'queued',
    };
    const remove: string[] = [];
    attemptClauses(outcome, set, remove, values);
    return this.settle(
      tenantId,
      now,
      { pk: tenantPk(tenantId), sk: `ADJ#${conversionId}#${id}` },
      set,
      remove,
      values,
      '#status = :queued',
    );
  }

  /**
   * Applies an outcome's SET and REMOVE clauses while the item is still in a state the condition
   * names; false when it has moved on (another delivery of the same message settled it).
   */
  private async settle(
    tenantId: string,
    now: Date,
    key: Record<string, string>,
    set: readonly string[],
    remove: readonly string[],
    values: Record<string, unknown>,
    condition: string,
  ): Promise<boolean> {
    const expires = await this.expiryOf(tenantId, now);
    const sets = [...set, '#expires_at = :expires'];
    return this.conditionally(
      new UpdateCommand({
        TableName: this.table,
        Key: key,
        UpdateExpression: `SET ${sets.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''}`,
        ConditionExpression: condition,
        ExpressionAttributeNames: { '#status': 'status', '#expires_at': EXPIRY_ATTRIBUTE },
        ExpressionAttributeValues: { ...values, ':expires': expires },
      }),
    );
  }

  async batches(tenantId: string): Promise<UploadBatchRecord[]> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :batch)',
        ExpressionAttributeValues: { ':pk': tenantPk(tenantId), ':batch': 'BATCH#' },
      }),
    );
    const now = this.now();
    return (out.Items ?? []).flatMap((item) => liveRecord<UploadBatchRecord>(item, now) ?? []);
  }

  /**
   * The tenant's conversions (in id order); by status through gsi1, newest conversion time first,
   * except `uploaded`, which the index does not hold: those are the tenant's conversions filtered
   * (in id order; a page may hold fewer than `limit`, its cursor goes on).
   */
  async list(
    scope: TenantScope,
    options: { limit: number; cursor?: string; status?: ConversionStatus },
  ): Promise<Page<LoggedConversion>> {
    const pk = tenantPk(scope.tenantId);
    const binding = { list: 'conversions', tenantId: scope.tenantId, filter: { status: options.status } };
    const input =
      options.status === 'uploaded'
        ? {
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :conv)',
            FilterExpression: '#status = :status',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':pk': pk, ':conv': 'CONV#', ':status': 'uploaded' },
            ExclusiveStartKey: await decodeCursor(options.cursor, binding, (k) => k.pk === pk),
          }
        : options.status
          ? {
              IndexName: 'gsi1',
              KeyConditionExpression: 'gsi1pk = :pk',
              ExpressionAttributeValues: { ':pk': statusPk(scope.tenantId, options.status) },
              ExclusiveStartKey: await decodeCursor(
                options.cursor,
                binding,
                (k) => k.gsi1pk === statusPk(scope.tenantId, options.status as string) && k.pk === pk,
              ),
            }
          : {
              KeyConditionExpression: 'pk = :pk AND begins_with(sk, :conv)',
              ExpressionAttributeValues: { ':pk': pk, ':conv': 'CONV#' },
              ExclusiveStartKey: await decodeCursor(options.cursor, binding, (k) => k.pk === pk),
            };
    return this.livePage(input, { limit: options.limit, now: this.now(), binding }, fromItem);
  }
}

/** A conversion as the API shows it, with how it is matched and the upload details; no click id. */
export function publicConversion(conversion: LoggedConversion): Record<string, unknown> {
  const { click_id: _click, next_attempt_at: _next, order_key: _order, ...shown } = conversion;
  return { ...shown, match: matchOf(conversion) };
}
