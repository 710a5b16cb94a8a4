import {
  type Connection,
  type ConversionProvider,
  ProviderFailure,
  type RowOutcome,
  type SendResult,
  type SentRequest,
  type UploadRow,
} from '../../features/conversions/ports-provider';
import type { EventsAnswer, EventsCall } from './client';
import { deliverIsolating } from './delivery';
import { buildMetaEvent, type MetaEventInput, type MetaServerEvent } from './events';
import type { StoredMetaIntegration } from './integration';
import { eventsRequest, MAX_EVENTS_PER_REQUEST } from './request';
import type { MetaFailure } from './results';

/**
 * Meta as a conversion provider: the tenant's pixel and access token, Meta's rules (consent, the
 * 7-day window, what a website event needs), and the Conversions API as the transport: up to
 * 1,000 events per request, a refused request split until the refused events stand alone.
 *
 * A refused token (190/102) marks the integration disconnected once; the tenant's Meta
 * conversions then wait in the conversion log (queued, saying why), not in the dead-letter queue,
 * and are queued again when an admin connects the pixel again (`PUT /api/v1/integrations/meta`).
 */
export const META_NOT_CONNECTED = 'Meta is not connected';
export const META_DISCONNECTED = 'Meta is disconnected: connect the pixel again with a new access token';
/** Meta's limits are counted over rolling windows of up to an hour; wait a while before trying again. */
export const THROTTLE_WAIT_SECONDS = 300;

export interface MetaSession {
  tenantId: string;
  integration: StoredMetaIntegration;
  accessToken(): Promise<string>;
}

export interface MetaProviderDeps {
  integrations: {
    get(tenantId: string): Promise<StoredMetaIntegration | undefined>;
    disconnect(tenantId: string, sealedAccessToken: string, reason: string, now: Date): Promise<boolean>;
  };
  /** The tenant's access token, opened from its sealed form. */
  accessToken(tenantId: string, integration: StoredMetaIntegration): Promise<string>;
  /** One Conversions API call (`postEvents`). */
  post(call: EventsCall): Promise<EventsAnswer>;
  now(): Date;
  clock?: () => number;
}

/** What Meta is told about a conversion, from the conversion and its lead. */
export function metaEventInput(row: UploadRow): MetaEventInput {
  const { conversion, lead } = row;
  return {
    id: conversion.id,
    eventName: conversion.event_name ?? 'Purchase',
    conversionTime: conversion.conversion_time,
    ...(conversion.match === 'user_data' ? {} : { fbclid: conversion.click_id ?? '' }),
    ...((conversion.click_time ?? lead?.click_time)
      ? { clickTime: conversion.click_time ?? lead?.click_time }
      : {}),
    ...(conversion.value !== undefined ? { value: conversion.value } : {}),
    ...(conversion.currency ? { currency: conversion.currency } : {}),
    ...(conversion.order_id ? { orderId: conversion.order_id } : {}),
    ...(conversion.consent ? { consent: conversion.consent } : {}),
    ...(lead
      ? {
          lead: {
            email: lead.email,
            ...(lead.phone ? { phone: lead.phone } : {}),
            leadId: lead.id,
            ...(lead.external_id ? { externalId: lead.external_id } : {}),
            ...(lead.landing_page ? { landingPage: lead.landing_page } : {}),
            ...(lead.client_user_agent ? { clientUserAgent: lead.client_user_agent } : {}),
            ...(lead.client_ip_address ? { clientIpAddress: lead.client_ip_address } : {}),
            ...(lead.fbp ? { fbp: lead.fbp } : {}),
            consent: lead.consent,
            restricted: lead.restricted,
            createdAt: lead.created_at,
          },
        }
      : {}),
  };
}

/** The uploader's failure for a Meta failure of the whole call. */
export function providerFailureOf(failure: MetaFailure): ProviderFailure {
  switch (failure.kind) {
    case 'disconnected':
      return new ProviderFailure('disconnected', failure.message, undefined, failure.status);
    case 'configuration':
      // A Graph API version Meta no longer serves stops every tenant: the platform alarm.
      return new ProviderFailure('platform', failure.message, undefined, failure.status);
    case 'throttled':
      return new ProviderFailure('transient', failure.message, THROTTLE_WAIT_SECONDS, failure.status);
    case 'rejected':
      return new ProviderFailure('rejected', failure.message, undefined, failure.status);
    default:
      return new ProviderFailure('transient', failure.message, undefined, failure.status);
  }
}

export function metaProvider(deps: MetaProviderDeps): ConversionProvider<MetaSession> {
  const clock = deps.clock ?? Date.now;
  return {
    platform: 'meta',
    transport: 'conversions_api',
    maxPerRequest: MAX_EVENTS_PER_REQUEST,
    waitsForReconnect: true,
    async connect(tenantId): Promise<Connection<MetaSession>> {
      const integration = await deps.integrations.get(tenantId);
      if (!integration) return { kind: 'missing', reason: META_NOT_CONNECTED };
      if (integration.status !== 'connected')
        return { kind: 'parked', reason: integration.status_reason ?? META_DISCONNECTED };
      let token: Promise<string> | undefined;
      return {
        kind: 'ready',
        account: integration.pixel_id,
        session: {
          tenantId,
          integration,
          accessToken: () => {
            token ??= deps.accessToken(tenantId, integration);
            return token;
          },
        },
      };
    },
    rejectionReason(row, now) {
      const built = buildMetaEvent(metaEventInput(row), { limitedDataUse: false }, now);
      if (built.kind === 'invalid') return built.reason;
      if (built.kind === 'cancelled')
        return 'The consent given with the conversion does not allow sending it';
      return undefined;
    },
    async send(session, rows, now): Promise<SendResult> {
      const outcomes: RowOutcome[] = new Array(rows.length);
      const requestIds: Array<string | undefined> = new Array(rows.length).fill(undefined);
      const events: MetaServerEvent[] = [];
      const indexOf: number[] = [];
      const options = { limitedDataUse: session.integration.limited_data_use };
      rows.forEach((row, i) => {
        const built = buildMetaEvent(metaEventInput(row), options, now);
        if (built.kind === 'event') {
          events.push(built.event);
          indexOf.push(i);
        } else
          outcomes[i] = {
            kind: 'failed',
            reason: built.kind === 'invalid' ? built.reason : 'The consent does not allow sending it',
          };
      });
      const accessToken = events.length ? await session.accessToken() : '';
      const report = await deliverIsolating(
        events,
        (group) =>
          deps.post({
            pixelId: session.integration.pixel_id,
            accessToken,
            body: eventsRequest(group, session.integration.test_event_code),
          }),
        clock,
      );
      const requests: SentRequest[] = report.accepted.map((request) => {
        const carried = indexOf.slice(request.from, request.to);
        for (const i of carried) requestIds[i] = request.fbtraceId;
        return {
          ...(request.fbtraceId ? { requestId: request.fbtraceId } : {}),
          rows: carried,
          durationMs: request.durationMs,
        };
      });
      let unsent: MetaFailure | undefined;
      let delivered = 0;
      report.outcomes.forEach((outcome, k) => {
        const i = indexOf[k] as number;
        if (outcome.kind === 'delivered') {
          outcomes[i] = { kind: 'uploaded' };
          delivered += 1;
        } else if (outcome.kind === 'rejected') outcomes[i] = { kind: 'failed', reason: outcome.reason };
        else unsent ??= outcome.failure;
      });
      if (unsent) {
        const failure = providerFailureOf(unsent);
        // Nothing went out, or the tenant or the platform is stopped: the whole group waits (what
        // Meta took in a split request is deduplicated by event id when it is sent again).
        if (delivered === 0 || failure.kind !== 'transient') throw failure;
        // Part of a split batch went out; the rest is tried again after a backoff.
        report.outcomes.forEach((outcome, k) => {
          if (outcome.kind === 'unsent')
            outcomes[indexOf[k] as number] = {
              kind: 'rescheduled',
              reason: failure.message,
              code: 'META_RETRY',
              afterSeconds: failure.retryAfterSeconds ?? 60,
            };
        });
      }
      return { outcomes, requestIds, requests };
    },
    async onFailure(tenantId, session, failure) {
      if (failure.kind === 'disconnected' && session)
        await deps.integrations.disconnect(
          tenantId,
          session.integration.sealed_access_token,
          failure.message,
          deps.now(),
        );
    },
  };
}
