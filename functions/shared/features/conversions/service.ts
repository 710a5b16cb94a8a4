import { createHash } from 'node:crypto';
import {
  DomainConflictError,
  DomainNotFoundError,
  DomainValidationError,
} from '../../platform/errors/domain';
import { BEFORE_CLICK, rejectionReason, TOO_OLD } from '../../providers/google-ads/rules';
import { isTooOld, TOO_OLD as META_TOO_OLD } from '../../providers/meta/events';
import type { StoredLead } from '../leads/model';
import { googleClickId } from '../leads/rules/click-ids';
import { allowsUpload } from '../leads/rules/consent';
import type { TenantScope } from '../tenancy/rules/scope';
import type { LoggedConversion } from './dynamo-log';
import type { Adjustment, Conversion } from './model';
import { earlierOrderConversionIds, type MatchingRules, planConversions, platformLetter } from './rules/plan';
import type {
  AdjustmentBody,
  ConversionByFbclid,
  ConversionByGoogleClick,
  ConversionRequest,
} from './schema';

/**
 * Conversions by API and adjustments: the rules checked at the door (the 90-day window, not
 * before the click, consent), deterministic ids so a repeat is the same conversion or
 * adjustment, and the plan of a refund. Domain errors only; no AWS SDK, no HTTP.
 */
export interface ConversionServiceDeps {
  leads: {
    get(scope: TenantScope, id: string): Promise<StoredLead | undefined>;
    /**
     * Records an order (`api:<order id>`) on the lead, which its conversions' ids derive from;
     * whether it was new on the lead (undefined: no such lead).
     */
    recordOrder(scope: TenantScope, id: string, orderKey: string): Promise<boolean | undefined>;
  };
  conversions: {
    queue(scope: TenantScope, conversion: Conversion): Promise<'queued' | 'exists'>;
    get(tenantId: string, id: string): Promise<LoggedConversion | undefined>;
    queueAdjustment(
      scope: TenantScope,
      adjustment: Adjustment,
      delaySeconds?: number,
    ): Promise<'queued' | 'exists'>;
    adjustments(scope: TenantScope, conversionId: string): Promise<Adjustment[]>;
  };
  /** The tenant's matching rules (which platforms are connected, user-data matching allowed). */
  rules?(tenantId: string): Promise<MatchingRules>;
}

export type Created =
  | { kind: 'queued'; conversions: Conversion[] }
  | { kind: 'exists'; conversion: LoggedConversion };

const digest = (...parts: string[]) => createHash('sha256').update(parts.join('\n'), 'utf8').digest('hex');

/** The window and click-order rules, checked at the door with the messages the API documents. */
function checkWindow(conversion: Conversion, now: Date, clickTime?: string): void {
  if (conversion.platform !== 'google_ads') return;
  const reason = rejectionReason(conversion, now, clickTime);
  if (reason === TOO_OLD)
    throw new DomainValidationError([{ path: 'conversion_time', message: TOO_OLD }], TOO_OLD);
  if (reason === BEFORE_CLICK)
    throw new DomainValidationError([{ path: 'conversion_time', message: BEFORE_CLICK }], BEFORE_CLICK);
  if (reason) throw new DomainValidationError([{ path: 'conversion_time', message: reason }], reason);
}

/** The conversions a request asks for, ids fixed: the same lead or order again is the same conversion. */
export function plannedConversions(
  scope: TenantScope,
  request: ConversionRequest,
  lead: StoredLead | undefined,
  now: Date,
  rules: MatchingRules = {},
): Conversion[] {
  if (request.form === 'lead') {
    if (!lead) throw new DomainNotFoundError('Lead not found');
    if (lead.restricted || !allowsUpload(lead.consent))
      throw new DomainConflictError("The lead's consent does not allow uploading its conversions");
    const { body } = request;
    const at = body.conversion_time ? new Date(body.conversion_time) : now;
    const plan = planConversions(
      lead,
      {
        ...(body.order_id ? { orderId: body.order_id, uniqueBy: `api:${body.order_id}` } : {}),
        ...(body.value !== undefined ? { value: body.value } : {}),
        ...(body.currency ? { currency: body.currency } : {}),
      },
      at,
      rules,
    );
    const planned = plan.conversions;
    if (planned.length === 0)
      throw new DomainValidationError([
        { path: 'lead_id', message: 'The lead has no click id of an ad platform' },
        ...plan.notPlanned.map((n) => ({ path: 'lead_id', message: `${n.platform}: ${n.reason}` })),
      ]);
    for (const conversion of planned) checkWindow(conversion, now, lead.click_time);
    return planned.map((c) => ({ ...c, created_at: now.toISOString(), updated_at: now.toISOString() }));
  }
  if (request.form === 'meta_click') return [metaClickConversion(scope, request.body, now)];
  const { body } = request;
  const click = googleClickId(body);
  if (!click)
    throw new DomainValidationError([
      { path: 'gclid', message: 'Exactly one of gclid, gbraid and wbraid may be given' },
    ]);
  const at = new Date(body.conversion_time).toISOString();
  const key = body.order_id ? `order:${body.order_id}` : `click:${click.field}:${click.value}:${at}`;
  const conversion = rawClickConversion(scope, body, now, {
    platform: 'google_ads',
    key,
    click_id_type: click.field,
    click_id: click.value,
  });
  checkWindow(conversion, now);
  return [conversion];
}

/**
 * A conversion by a raw click id, as the API posted it (either platform's click): queued, its id
 * derived from the tenant and `key` (the order, or the click and time), with the click's own
 * consent signals.
 */
function rawClickConversion(
  scope: TenantScope,
  body: ConversionByGoogleClick | ConversionByFbclid,
  now: Date,
  click: Pick<Conversion, 'platform' | 'click_id_type' | 'click_id' | 'event_name'> & { key: string },
): Conversion {
  const { key, ...named } = click;
  const id = `cnv_${digest('api', scope.tenantId, key).slice(0, 26)}${platformLetter(click.platform)}`;
  const created = now.toISOString();
  return {
    id,
    status: 'queued',
    attempts: 0,
    order_id: body.order_id ?? id,
    conversion_time: new Date(body.conversion_time).toISOString(),
    ...(body.value !== undefined ? { value: body.value } : {}),
    ...(body.currency ? { currency: body.currency } : {}),
    match: 'click_id',
    ...named,
    ...(body.click_time ? { click_time: new Date(body.click_time).toISOString() } : {}),
    ...(body.consent && Object.keys(body.consent).length ? { consent: body.consent } : {}),
    event_source: 'other',
    created_at: created,
    updated_at: created,
  };
}

/**
 * A Meta conversion by raw fbclid: Meta takes events up to 7 days old (the documented message
 * otherwise) and none from the future. The same order, or the same click, event and
 * time, is the same conversion.
 */
function metaClickConversion(scope: TenantScope, body: ConversionByFbclid, now: Date): Conversion {
  const at = new Date(body.conversion_time).toISOString();
  const seconds = Math.floor(Date.parse(at) / 1000);
  if (isTooOld(seconds, now))
    throw new DomainValidationError([{ path: 'conversion_time', message: META_TOO_OLD }], META_TOO_OLD);
  if (seconds > now.getTime() / 1000 + 60)
    throw new DomainValidationError([
      { path: 'conversion_time', message: 'The conversion time is in the future' },
    ]);
  const eventName = body.event_name ?? 'Purchase';
  const key = body.order_id ? `order:${body.order_id}` : `fbclid:${body.fbclid}:${eventName}:${at}`;
  return rawClickConversion(scope, body, now, {
    platform: 'meta',
    key,
    event_name: eventName,
    click_id_type: 'fbclid',
    click_id: body.fbclid,
  });
}

/** Queues the conversions a request asks for, or finds the one it already made. */
export async function createConversion(
  deps: ConversionServiceDeps,
  scope: TenantScope,
  request: ConversionRequest,
  now: Date,
): Promise<Created> {
  const lead = request.form === 'lead' ? await deps.leads.get(scope, request.body.lead_id) : undefined;
  const rules = request.form === 'lead' && deps.rules ? await deps.rules(scope.tenantId) : {};
  const planned = plannedConversions(scope, request, lead, now, rules);
  if (lead && request.form === 'lead' && request.body.order_id) {
    // The order goes on the lead before its conversions exist, so erasure finds them from it; an
    // order new on a lead held before may have become conversions under their earlier ids.
    const orderKey = `api:${request.body.order_id}`;
    const recorded = await deps.leads.recordOrder(scope, lead.id, orderKey);
    if (recorded === undefined) throw new DomainNotFoundError('Lead not found');
    if (recorded)
      for (const id of earlierOrderConversionIds(lead.id, orderKey)) {
        const earlier = await deps.conversions.get(scope.tenantId, id);
        if (earlier) return { kind: 'exists', conversion: earlier };
      }
  }
  const queued: Conversion[] = [];
  for (const conversion of planned)
    if ((await deps.conversions.queue(scope, conversion)) === 'queued') queued.push(conversion);
  if (queued.length > 0) return { kind: 'queued', conversions: queued };
  const existing = await deps.conversions.get(scope.tenantId, (planned[0] as Conversion).id);
  if (!existing) throw new DomainConflictError('The conversion is being created; try again');
  return { kind: 'exists', conversion: existing };
}

/** An adjustment's id: the conversion and what asked for it. */
export const adjustmentId = (conversionId: string, key: string) =>
  `adj_${digest(conversionId, key).slice(0, 26)}`;

export interface AdjustmentRequest {
  type: Adjustment['type'];
  value?: number;
  currency?: string;
  source: string;
  /** What makes it unique for the conversion (a refund id, `cancel`, the request's content). */
  key: string;
  refundAmount?: number;
}

export type Adjusted = { kind: 'queued' | 'exists'; adjustment: Adjustment };

/**
 * Retracts or restates an uploaded Google Ads conversion of the tenant (another tenant's
 * conversion is not found). A repeat of the same adjustment finds the first one.
 */
export async function adjustConversion(
  deps: Pick<ConversionServiceDeps, 'conversions'>,
  scope: TenantScope,
  conversionId: string,
  request: AdjustmentRequest,
  now: Date,
  delaySeconds = 0,
): Promise<Adjusted> {
  const conversion = await deps.conversions.get(scope.tenantId, conversionId);
  if (!conversion) throw new DomainNotFoundError('Conversion not found');
  const id = adjustmentId(conversionId, request.key);
  const existing = (await deps.conversions.adjustments(scope, conversionId)).find((a) => a.id === id);
  if (existing) return { kind: 'exists', adjustment: existing };
  if (conversion.platform !== 'google_ads')
    throw new DomainConflictError('Only Google Ads conversions can be retracted or restated');
  if (conversion.status !== 'uploaded' && delaySeconds === 0)
    throw new DomainConflictError(
      `Only an uploaded conversion can be adjusted (this one is ${conversion.status})`,
    );
  const at = now.toISOString();
  const adjustment: Adjustment = {
    id,
    conversion_id: conversionId,
    type: request.type,
    ...(request.type === 'restatement' && request.value !== undefined ? { value: request.value } : {}),
    ...(request.type === 'restatement' && (request.currency ?? conversion.currency)
      ? { currency: request.currency ?? conversion.currency }
      : {}),
    status: 'queued',
    attempts: 0,
    source: request.source,
    ...(request.refundAmount !== undefined ? { refund_amount: request.refundAmount } : {}),
    adjustment_time: at,
    created_at: at,
    updated_at: at,
  };
  const outcome = await deps.conversions.queueAdjustment(scope, adjustment, delaySeconds);
  if (outcome === 'exists') {
    const stored = (await deps.conversions.adjustments(scope, conversionId)).find((a) => a.id === id);
    return { kind: 'exists', adjustment: stored ?? adjustment };
  }
  return { kind: 'queued', adjustment };
}

/** The API's adjustment request: the same content again is the same adjustment. */
export function apiAdjustment(body: AdjustmentBody): AdjustmentRequest {
  return {
    type: body.type,
    ...(body.value !== undefined ? { value: body.value } : {}),
    ...(body.currency ? { currency: body.currency } : {}),
    source: 'api',
    key: `api:${body.type}:${body.value ?? ''}:${body.currency ?? ''}`,
  };
}

/** Below this, what remains of an order is nothing (money in two decimals). */
const NOTHING_LEFT = 0.005;

/**
 * What a refund does to a conversion: refunds add up; when nothing of the conversion's value is
 * left it is retracted, otherwise restated with what remains. A refund already counted (same key)
 * is not counted twice.
 */
export function refundPlan(
  conversion: Pick<Conversion, 'value' | 'currency'>,
  earlier: readonly Adjustment[],
  refund: { key: string; amount: number; currency?: string; full?: boolean },
  conversionId: string,
): AdjustmentRequest {
  const before = earlier
    .filter((a) => a.id !== adjustmentId(conversionId, refund.key))
    .reduce((sum, a) => sum + (a.refund_amount ?? 0), 0);
  const refunded = before + refund.amount;
  const remaining = Math.round(((conversion.value ?? 0) - refunded) * 100) / 100;
  const base = { source: 'shopify', key: refund.key, refundAmount: refund.amount };
  if (refund.full || conversion.value === undefined || remaining < NOTHING_LEFT)
    return { ...base, type: 'retraction' };
  return {
    ...base,
    type: 'restatement',
    value: remaining,
    ...((refund.currency ?? conversion.currency) ? { currency: refund.currency ?? conversion.currency } : {}),
  };
}
