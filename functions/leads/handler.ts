import * as z from 'zod/mini';
import { DynamoConversionStore } from '../shared/features/conversions/dynamo';
import { DynamoConversionLog, publicConversion } from '../shared/features/conversions/dynamo-log';
import { integrationMatchingSources } from '../shared/features/conversions/dynamo-matching-sources';
import { matchingRules } from '../shared/features/conversions/rules/plan';
import {
  adjustmentBody,
  type ConversionRequest,
  conversionFormOf,
  listConversionsQuery,
} from '../shared/features/conversions/schema';
import {
  adjustConversion,
  apiAdjustment,
  type ConversionServiceDeps,
  createConversion,
} from '../shared/features/conversions/service';
import { DynamoAuditTrail } from '../shared/features/gdpr/dynamo-audit';
import { DynamoTombstones } from '../shared/features/gdpr/dynamo-tombstones';
import { DynamoLeadStore } from '../shared/features/leads/dynamo';
import { publicLead } from '../shared/features/leads/model';
import { WriteConflict } from '../shared/features/leads/ports';
import { type EmailHasher, loadEmailHasher } from '../shared/features/leads/rules/email-hash';
import { canMove, listLeadsQuery, parseLeadsBody, patchLeadBody } from '../shared/features/leads/schema';
import {
  captureLeads,
  dedupKeysOf,
  type LeadDeps,
  normaliseLeads,
  recordOrder,
} from '../shared/features/leads/service';
import { planWon, queueWon, type WonDeps } from '../shared/features/leads/service-won';
import { consentPolicyOfTenant } from '../shared/features/tenancy/dynamo-consent-policy';
import { scopeOf } from '../shared/features/tenancy/rules/scope';
import { pageSize } from '../shared/platform/dynamo/pagination';
import { DomainValidationError } from '../shared/platform/errors/domain';
import { actorOf } from '../shared/platform/http/actor';
import { HttpError, notFound } from '../shared/platform/http/errors';
import { authOf, httpHandler, json } from '../shared/platform/http/handler';
import { parseJsonBody, parseWith } from '../shared/platform/http/validation';
import { MetaIntegrationStore } from '../shared/providers/meta/dynamo';

const leads = new DynamoLeadStore();
const conversions = new DynamoConversionStore();
const audit = new DynamoAuditTrail();
const tombstones = new DynamoTombstones();
const meta = new MetaIntegrationStore();

/** What lead capture reaches: the stores, the erasure guard, the consent policy, Meta Lead events. */
function leadDeps(hash: EmailHasher): LeadDeps {
  return {
    leads,
    audit,
    hash,
    erasure: { tombstones, hash },
    consentPolicy: consentPolicyOfTenant(),
    leadEvents: {
      integration: (tenantId) => meta.get(tenantId),
      queue: (scope, conversion) => conversions.queue(scope, conversion),
    },
  };
}
const conversionLog = new DynamoConversionLog();
const matchingSources = integrationMatchingSources();
const wonDeps: WonDeps = {
  rules: (tenantId) => matchingRules(matchingSources, tenantId),
  queue: (scope, conversion) => conversions.queue(scope, conversion),
};
const conversionDeps: ConversionServiceDeps = {
  leads: {
    get: (scope, id) => leads.get(scope, id),
    recordOrder: (scope, id, orderKey) => recordOrder(leads, scope, id, orderKey),
  },
  conversions: {
    queue: (scope, conversion) => conversions.queue(scope, conversion),
    get: (tenantId, id) => conversionLog.get(tenantId, id),
    queueAdjustment: (scope, adjustment, delay) => conversions.queueAdjustment(scope, adjustment, delay),
    adjustments: (scope, id) => conversions.adjustments(scope, id),
  },
  rules: wonDeps.rules,
};

export const handler = httpHandler('leads', {
  'POST /api/v1/leads': async (request) => {
    const { single, leads: inputs } = parseLeadsBody(parseJsonBody(request, z.unknown()), parseWith);
    const scope = scopeOf(authOf(request));
    const hash = await loadEmailHasher();
    const normalised = normaliseLeads(scope, inputs, hash, single);
    const result = await captureLeads(leadDeps(hash), scope, normalised, actorOf(request));
    return json(result.stored > 0 ? 201 : 200, result);
  },

  'GET /api/v1/leads': async (request) => {
    const query = parseWith(listLeadsQuery, request.query);
    const page = await leads.list(scopeOf(authOf(request)), {
      limit: pageSize(request.query.limit),
      ...(request.query.cursor ? { cursor: request.query.cursor } : {}),
      ...(query.status ? { status: query.status } : {}),
      ...(query.created_from ? { createdFrom: query.created_from } : {}),
      ...(query.created_to ? { createdTo: query.created_to } : {}),
    });
    return json(200, { items: page.items.map(publicLead), next_cursor: page.next_cursor });
  },

  /** The conversion log: status, attempts and last error per conversion; by conversion time with `?status=`. */
  'GET /api/v1/conversions': async (request) => {
    const query = parseWith(listConversionsQuery, { status: request.query.status });
    const page = await conversionLog.list(scopeOf(authOf(request)), {
      limit: pageSize(request.query.limit),
      ...(request.query.cursor ? { cursor: request.query.cursor } : {}),
      ...(query.status ? { status: query.status } : {}),
    });
    return json(200, { items: page.items.map(publicConversion), next_cursor: page.next_cursor });
  },

  'GET /api/v1/conversions/{id}': async (request) => {
    const scope = scopeOf(authOf(request));
    const conversion = await conversionLog.get(scope.tenantId, request.params.id ?? '');
    if (!conversion) throw notFound('Conversion not found');
    const adjustments = await conversions.adjustments(scope, conversion.id);
    return json(200, { ...publicConversion(conversion), ...(adjustments.length ? { adjustments } : {}) });
  },

  /**
   * A conversion for a lead (its click ids and consent) or a raw click id, with the 90-day window
   * checked now; ids are derived from the lead or order, so a repeat answers 200 with the
   * conversion already queued.
   */
  'POST /api/v1/conversions': async (request) => {
    const scope = scopeOf(authOf(request));
    const data = parseJsonBody(request, z.unknown());
    const form = conversionFormOf(data);
    if (!form)
      throw new DomainValidationError([
        { path: 'lead_id', message: 'Give lead_id, or one click id: gclid, gbraid, wbraid or fbclid' },
      ]);
    const parsed = { form: form.form, body: parseWith(form.schema, data) } as ConversionRequest;
    const created = await createConversion(conversionDeps, scope, parsed, new Date());
    if (created.kind === 'exists') return json(200, publicConversion(created.conversion));
    const [first, ...others] = created.conversions;
    return json(202, {
      id: first?.id,
      status: 'queued',
      platform: first?.platform,
      ...(others.length
        ? {
            conversions: created.conversions.map((c) => ({
              id: c.id,
              platform: c.platform,
              status: c.status,
            })),
          }
        : {}),
    });
  },

  /** Retracts or restates an uploaded Google Ads conversion; the same adjustment again answers 200. */
  'POST /api/v1/conversions/{id}/adjustments': async (request) => {
    const scope = scopeOf(authOf(request));
    const body = parseJsonBody(request, adjustmentBody);
    const adjusted = await adjustConversion(
      conversionDeps,
      scope,
      request.params.id ?? '',
      apiAdjustment(body),
      new Date(),
    );
    return json(adjusted.kind === 'queued' ? 202 : 200, adjusted.adjustment);
  },

  'GET /api/v1/leads/{id}': async (request) => {
    const lead = await leads.get(scopeOf(authOf(request)), request.params.id ?? '');
    if (!lead) throw notFound('Lead not found');
    return json(200, publicLead(lead));
  },

  /**
   * Moves a lead along its statuses. `won` queues one conversion per ad platform the lead has a
   * click id for (with consent, unrestricted), time and order id fixed now; repeating `won` is
   * safe and queues nothing new.
   */
  'PATCH /api/v1/leads/{id}': async (request) => {
    const scope = scopeOf(authOf(request));
    const body = parseJsonBody(request, patchLeadBody);
    const lead = await leads.get(scope, request.params.id ?? '');
    if (!lead) throw notFound('Lead not found');
    const status = body.status ?? lead.status;
    if (status !== lead.status && !canMove(lead.status, status)) {
      throw new HttpError(409, 'conflict', `A lead cannot move from ${lead.status} to ${status}`);
    }
    const now = new Date();
    const changed = {
      ...lead,
      status,
      ...(body.value !== undefined ? { value: body.value } : {}),
      ...(body.currency ? { currency: body.currency } : {}),
      updated_at: now.toISOString(),
      version: lead.version + 1,
    };
    // Won: its conversions are planned now, and what a connected platform does not get says why.
    const plan =
      status === 'won'
        ? await planWon(
            wonDeps,
            scope,
            changed,
            {
              ...(body.order_id ? { orderId: body.order_id } : {}),
              ...(body.value !== undefined ? { value: body.value } : {}),
              ...(body.currency ? { currency: body.currency } : {}),
            },
            now,
          )
        : undefined;
    // Kept only while it says something: the last time the lead was won, a platform got nothing.
    const { conversions_not_planned: previous, ...rest } = changed;
    const notPlanned = plan ? plan.notPlanned : previous;
    const updated = { ...rest, ...(notPlanned?.length ? { conversions_not_planned: notPlanned } : {}) };
    try {
      await leads.update(scope, updated, lead.version, [], dedupKeysOf(updated, updated.email_hash));
    } catch (error) {
      if (error instanceof WriteConflict) {
        throw new HttpError(
          409,
          'conflict',
          'The lead was changed by another request; read it and try again',
        );
      }
      throw error;
    }
    const queued = (plan ? await queueWon(wonDeps, scope, plan.conversions) : []).map((conversion) => ({
      id: conversion.id,
      platform: conversion.platform,
      status: conversion.status,
    }));
    return json(200, { ...publicLead(updated), conversions_queued: queued });
  },
});
