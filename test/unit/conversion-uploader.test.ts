import { type QueuedMessage, readBatch } from '../../functions/conversion-uploader/messages';
import type { UploaderDeps } from '../../functions/conversion-uploader/ports';
import {
  type MessageResult,
  RESCHEDULE_SECONDS,
  retryDelaySeconds,
} from '../../functions/conversion-uploader/results';
import { uploadMessages } from '../../functions/conversion-uploader/upload';
import type {
  AttemptOutcome,
  LoggedConversion,
  UploadBatchRecord,
} from '../../functions/shared/features/conversions/dynamo-log';
import type { StoredLead } from '../../functions/shared/features/leads/model';
import { CircuitOpenError } from '../../functions/shared/platform/breaker/breaker';
import {
  MAX_PROVIDER_RETRIES,
  PROVIDER_RETRIES_ATTRIBUTE,
} from '../../functions/shared/platform/queues/wait';
import type { UploadCall } from '../../functions/shared/providers/google-ads/google-ads-api/client';
import type { UploadResponseBody } from '../../functions/shared/providers/google-ads/google-ads-api/results';
import type { StoredGoogleAdsIntegration } from '../../functions/shared/providers/google-ads/integration';
import {
  type GoogleConnectionDeps,
  googleAdsApiTransport,
  googleProvider,
} from '../../functions/shared/providers/google-ads/provider';
import { GoogleAdsFailure } from '../../functions/shared/providers/google-ads/tokens';
import { gclid } from '../support/click-ids';
import { adjustmentMessage, requestStatusMessage } from '../support/conversion-messages';
import { sqsRecord } from '../support/events';
import { storedConversion, storedLead } from '../support/fixtures';

const NOW = new Date('2026-11-25T12:00:00Z');

const conversion = (id: string, overrides: Partial<LoggedConversion> = {}): LoggedConversion =>
  storedConversion({
    id,
    lead_id: `lead_${id}`,
    order_id: `order-${id}`,
    value: 10,
    click_id: gclid(id.length + id.charCodeAt(id.length - 1)),
    ...overrides,
  });

const lead = (id: string, overrides: Partial<StoredLead> = {}): StoredLead =>
  storedLead({ id, email: `${id}@example.com`, ...overrides });

const integration: StoredGoogleAdsIntegration = {
  customer_id: '1234567890',
  conversion_action_id: '55',
  client_id: 'client',
  time_zone: 'UTC',
  status: 'connected',
  updated_at: NOW.toISOString(),
  sealed_client_secret: 'sealed-1',
  sealed_refresh_token: 'sealed-2',
};

interface World {
  conversions: Map<string, LoggedConversion>;
  leads: Map<string, StoredLead>;
  integrations: Map<string, StoredGoogleAdsIntegration>;
  attempts: Array<{ id: string; outcome: AttemptOutcome }>;
  cancelled: Array<{ id: string; reason: string }>;
  batches: UploadBatchRecord[];
  calls: UploadCall[];
  disconnected: string[];
  forgotten: number;
}

function world(answer: (call: UploadCall) => Promise<{ body: UploadResponseBody; requestId?: string }>) {
  const w: World = {
    conversions: new Map(),
    leads: new Map(),
    integrations: new Map([['t1', integration]]),
    attempts: [],
    cancelled: [],
    batches: [],
    calls: [],
    disconnected: [],
    forgotten: 0,
  };
  const google: GoogleConnectionDeps = {
    integrations: {
      get: async (tenantId) => w.integrations.get(tenantId),
      disconnect: async (tenantId) => {
        w.disconnected.push(tenantId);
      },
    },
    credential: async () => ({ clientId: 'client', clientSecret: 'cs', refreshToken: 'rt' }),
    accessToken: async () => 'access',
    forgetToken: () => {
      w.forgotten += 1;
    },
  };
  const deps: UploaderDeps = {
    conversions: {
      get: async (tenantId, id) => w.conversions.get(`${tenantId}/${id}`),
      recordAttempt: async (_t, id, outcome) => {
        w.attempts.push({ id, outcome });
        return true;
      },
      recordBatch: async (batch) => {
        w.batches.push(batch);
      },
      cancel: async (_scope, id, reason) => {
        w.cancelled.push({ id, reason });
        return true;
      },
    },
    leads: { get: async (scope, id) => w.leads.get(`${scope.tenantId}/${id}`) },
    providers: {
      google_ads: googleProvider(
        google,
        googleAdsApiTransport(async (call) => {
          w.calls.push(call);
          return answer(call);
        }),
      ) as never,
    },
    now: () => NOW,
    random: () => 1,
    retryBaseSeconds: 30,
  };
  return { w, deps, google };
}

function add(w: World, tenant: string, c: LoggedConversion, l: StoredLead | null = lead(c.lead_id ?? '')) {
  w.conversions.set(`${tenant}/${c.id}`, c);
  if (l && c.lead_id) w.leads.set(`${tenant}/${c.lead_id}`, l);
}

/** A world where every call to Google throws `error`, holding one queued conversion `a` of t1. */
function failingWith(error: Error) {
  const failing = world(async () => {
    throw error;
  });
  add(failing.w, 't1', conversion('a'));
  return failing;
}

const message = (
  tenant: string,
  id: string,
  receiveCount = 1,
  messageId = `m-${tenant}-${id}`,
): QueuedMessage => ({
  messageId,
  message: { version: 1, tenant_id: tenant, conversion_id: id },
  receiveCount,
});

const allResults = (call: UploadCall) => ({
  body: {
    results: call.body.conversions.map((c) => ({ gclid: c.gclid, conversionAction: c.conversionAction })),
  },
  requestId: 'req-1',
});

describe('backoff schedule', () => {
  it('doubles from the base with jitter, caps at 15 minutes and honours a longer retryDelay', () => {
    expect([1, 2, 3, 4].map((n) => retryDelaySeconds(n, 30, 1))).toEqual([30, 60, 120, 240]);
    expect([1, 2, 3].map((n) => retryDelaySeconds(n, 30, 0))).toEqual([15, 30, 60]);
    expect(retryDelaySeconds(10, 30, 1)).toBe(900);
    expect(retryDelaySeconds(1, 30, 1, 120)).toBe(120);
    expect(retryDelaySeconds(1, 0, 1)).toBe(0);
    expect(retryDelaySeconds(1, 0, 1, 2)).toBe(2);
    expect(retryDelaySeconds(1, 30, 1, 10 ** 6)).toBe(12 * 3600);
  });
});

describe('uploadMessages', () => {
  it('uploads a tenant group in one request and records every row and the batch', async () => {
    const { w, deps } = world(async (call) => allResults(call));
    for (const id of ['a', 'b', 'c']) add(w, 't1', conversion(id));
    const results = await uploadMessages(
      ['a', 'b', 'c'].map((id) => message('t1', id)),
      deps,
    );
    expect(w.calls).toHaveLength(1);
    expect(w.calls[0]?.body.conversions).toHaveLength(3);
    expect(w.calls[0]?.customerId).toBe('1234567890');
    expect(w.attempts.map((a) => a.outcome)).toEqual([
      { status: 'uploaded', requestId: 'req-1' },
      { status: 'uploaded', requestId: 'req-1' },
      { status: 'uploaded', requestId: 'req-1' },
    ]);
    expect(w.batches).toEqual([
      expect.objectContaining({
        size: 3,
        successes: 3,
        failures: 0,
        outcome: 'completed',
        google_request_id: 'req-1',
      }),
    ]);
    expect([...results.values()]).toEqual([{ kind: 'done' }, { kind: 'done' }, { kind: 'done' }]);
  });

  it('splits 2,500 conversions into requests of 2,000 and 500, and sends a repeated message once', async () => {
    const { w, deps } = world(async (call) => allResults(call));
    const ids = Array.from({ length: 2500 }, (_, i) => `c${i}`);
    for (const id of ids) add(w, 't1', conversion(id));
    const messages = ids.map((id) => message('t1', id));
    messages.push(message('t1', 'c0', 1, 'duplicate'));
    const results = await uploadMessages(messages, deps);
    expect(w.calls.map((c) => c.body.conversions.length)).toEqual([2000, 500]);
    expect(results.get('duplicate')).toEqual({ kind: 'done' });
  });

  it('sends nothing for cancelled consent, restriction, erased leads, gone or finished conversions and Meta ones', async () => {
    const { w, deps } = world(async (call) => allResults(call));
    add(
      w,
      't1',
      conversion('withdrawn'),
      lead('lead_withdrawn', {
        consent: { status: 'withdrawn', ad_user_data: 'denied', ad_personalization: 'denied' },
      }),
    );
    add(w, 't1', conversion('restricted'), lead('lead_restricted', { restricted: true }));
    add(w, 't1', conversion('erased'), null);
    add(w, 't1', conversion('done', { status: 'uploaded' }));
    add(w, 't1', conversion('meta', { platform: 'meta', click_id_type: 'fbclid' }));
    const ids = ['withdrawn', 'restricted', 'erased', 'done', 'meta', 'missing'];
    const results = await uploadMessages(
      ids.map((id) => message('t1', id)),
      deps,
    );
    expect(w.calls).toHaveLength(0);
    expect(w.cancelled).toEqual([
      { id: 'withdrawn', reason: 'consent_withdrawn' },
      { id: 'restricted', reason: 'restricted' },
      { id: 'erased', reason: 'erased' },
    ]);
    // Meta conversions are left queued for the Meta uploader: no attempt, no failure.
    expect(w.attempts).toEqual([]);
    expect(new Set([...results.values()].map((r) => r.kind))).toEqual(new Set(['done']));
  });

  it('marks invalid conversions failed before sending and uploads the rest', async () => {
    const { w, deps } = world(async (call) => allResults(call));
    add(
      w,
      't1',
      conversion('old', { conversion_time: '2026-01-01T00:00:00Z', created_at: '2026-01-01T00:00:00Z' }),
    );
    add(w, 't1', conversion('bad', { click_id: 'x' }));
    add(w, 't1', conversion('ok'));
    await uploadMessages(
      ['old', 'bad', 'ok'].map((id) => message('t1', id)),
      deps,
    );
    expect(w.calls[0]?.body.conversions).toHaveLength(1);
    expect(w.attempts).toEqual([
      { id: 'old', outcome: { status: 'failed', error: 'Conversion is too old (must be within 90 days)' } },
      { id: 'bad', outcome: { status: 'failed', error: 'Invalid GCLID format' } },
      { id: 'ok', outcome: { status: 'uploaded', requestId: 'req-1' } },
    ]);
  });

  it('applies row results: failed rows fail, duplicates count as delivered, too recent ones are rescheduled', async () => {
    const { w, deps } = world(async () => ({
      body: {
        results: [{}, {}, {}, { gclid: 'd' }],
        partialFailureError: {
          details: [
            {
              errors: [
                {
                  errorCode: { conversionUploadError: 'EXPIRED_EVENT' },
                  location: { fieldPathElements: [{ fieldName: 'conversions', index: 0 }] },
                },
                {
                  errorCode: { conversionUploadError: 'CLICK_CONVERSION_ALREADY_EXISTS' },
                  location: { fieldPathElements: [{ fieldName: 'conversions', index: 1 }] },
                },
                {
                  errorCode: { conversionUploadError: 'TOO_RECENT_EVENT' },
                  location: { fieldPathElements: [{ fieldName: 'conversions', index: 2 }] },
                },
              ],
            },
          ],
        },
      },
    }));
    for (const id of ['a', 'b', 'c', 'd']) add(w, 't1', conversion(id));
    const results = await uploadMessages(
      ['a', 'b', 'c', 'd'].map((id) => message('t1', id)),
      deps,
    );
    expect(w.attempts.map((a) => [a.id, a.outcome.status])).toEqual([
      ['a', 'failed'],
      ['b', 'uploaded'],
      ['c', 'rescheduled'],
      ['d', 'uploaded'],
    ]);
    expect(w.attempts[2]?.outcome.nextAttemptAt).toBe(
      new Date(NOW.getTime() + RESCHEDULE_SECONDS * 1000).toISOString(),
    );
    expect(results.get('m-t1-c')).toEqual({
      kind: 'retry',
      delaySeconds: RESCHEDULE_SECONDS,
      reason: 'TOO_RECENT_EVENT',
    });
    expect(w.batches[0]).toMatchObject({ size: 4, successes: 2, failures: 1, rescheduled: 1 });
  });

  it('waits for a rescheduled conversion until its time', async () => {
    const { w, deps } = world(async (call) => allResults(call));
    add(
      w,
      't1',
      conversion('r', {
        status: 'rescheduled',
        next_attempt_at: new Date(NOW.getTime() + 3600_000).toISOString(),
      }),
    );
    const results = await uploadMessages([message('t1', 'r')], deps);
    expect(w.calls).toHaveLength(0);
    expect(results.get('m-t1-r')).toEqual({ kind: 'retry', delaySeconds: 3600, reason: 'rescheduled' });
  });

  it('Google unwell while its circuit is closed: waits with backoff a bounded number of times, then ordinary retries', async () => {
    const { w, deps } = failingWith(new GoogleAdsFailure('transient', 'Google Ads answered 429', 45, 429));
    add(w, 't1', conversion('b'));
    const results = await uploadMessages(
      [message('t1', 'a', 1), { ...message('t1', 'b', 3), providerRetries: MAX_PROVIDER_RETRIES }],
      deps,
    );
    expect(results.get('m-t1-a')).toEqual({
      kind: 'wait',
      delaySeconds: 45,
      providerRetries: 1,
      reason: 'Google Ads answered 429',
    });
    expect(results.get('m-t1-b')).toEqual({
      kind: 'retry',
      delaySeconds: 120,
      reason: 'Google Ads answered 429',
    });
    expect(w.attempts.map((a) => a.outcome)).toEqual([
      { status: 'queued', error: 'Google Ads answered 429' },
      { status: 'queued', error: 'Google Ads answered 429' },
    ]);
    expect(w.batches[0]).toMatchObject({ outcome: 'transient', size: 2 });
  });

  it('a 401 for one tenant’s token is an ordinary retry, not a wait for Google', async () => {
    const { deps } = failingWith(
      new GoogleAdsFailure('transient', 'Google Ads answered 401', undefined, 401),
    );
    const results = await uploadMessages([message('t1', 'a')], deps);
    expect(results.get('m-t1-a')).toMatchObject({ kind: 'retry' });
  });

  it('an open circuit: nothing sent, conversions stay queued without an attempt, messages wait until it half-opens', async () => {
    const { w, deps } = failingWith(new CircuitOpenError('google_ads', 40));
    const results = await uploadMessages([{ ...message('t1', 'a', 2), providerRetries: 3 }], deps);
    expect(results.get('m-t1-a')).toEqual({
      kind: 'wait',
      delaySeconds: 48,
      providerRetries: 3,
      reason: 'Google Ads is temporarily unavailable (circuit open)',
    });
    expect(w.attempts.map((a) => a.outcome)).toEqual([
      { status: 'queued', error: 'Google Ads is temporarily unavailable (circuit open)', attempted: false },
    ]);
    expect(w.batches).toEqual([]);
  });

  it('the failure that opens the circuit is recorded as an attempt and its messages wait', async () => {
    const { w, deps } = failingWith(
      new CircuitOpenError('google_ads', 60, {
        cause: new GoogleAdsFailure('transient', 'Google Ads answered 503', undefined, 503),
      }),
    );
    const results = await uploadMessages([message('t1', 'a', 3)], deps);
    expect(results.get('m-t1-a')).toMatchObject({ kind: 'wait', delaySeconds: 72, providerRetries: 0 });
    expect(w.attempts.map((a) => a.outcome)).toEqual([
      { status: 'queued', error: 'Google Ads answered 503' },
    ]);
    expect(w.batches[0]).toMatchObject({ outcome: 'transient', size: 1 });
  });

  it('forgets the access token on 401', async () => {
    const { w, deps } = failingWith(
      new GoogleAdsFailure('transient', 'Google Ads answered 401', undefined, 401),
    );
    await uploadMessages([message('t1', 'a')], deps);
    expect(w.forgotten).toBe(1);
  });

  it('invalid_grant disconnects the tenant and parks its messages, without touching another tenant', async () => {
    const { w, deps, google } = world(async (call) => allResults(call));
    google.accessToken = async () => {
      throw new GoogleAdsFailure(
        'disconnected',
        'Google refused the refresh token (invalid_grant): reconnect the account',
      );
    };
    add(w, 't1', conversion('a'));
    const results = await uploadMessages([message('t1', 'a')], deps);
    expect(w.disconnected).toEqual(['t1']);
    expect(results.get('m-t1-a')).toEqual({
      kind: 'deadLetter',
      reason: expect.stringContaining('invalid_grant'),
    });
    expect(w.calls).toHaveLength(0);
  });

  it('configuration errors park the tenant; rejected requests fail their rows', async () => {
    const config = failingWith(
      new GoogleAdsFailure('configuration', 'Google Ads answered 403', undefined, 403),
    );
    expect((await uploadMessages([message('t1', 'a')], config.deps)).get('m-t1-a')?.kind).toBe('deadLetter');
    const rejected = failingWith(
      new GoogleAdsFailure('rejected', 'Google Ads answered 400: bad', undefined, 400),
    );
    expect((await uploadMessages([message('t1', 'a')], rejected.deps)).get('m-t1-a')).toEqual({
      kind: 'done',
    });
    expect(rejected.w.attempts[0]?.outcome).toEqual({
      status: 'failed',
      error: 'Google Ads answered 400: bad',
    });
  });

  it('without an account a conversion waits queued, disconnected ones are parked; other tenants still upload', async () => {
    const { w, deps } = world(async (call) => allResults(call));
    w.integrations.set('t3', { ...integration, status: 'disconnected' });
    add(w, 't1', conversion('a'));
    add(w, 't2', conversion('b'));
    add(w, 't3', conversion('c'));
    const results = await uploadMessages([message('t2', 'b'), message('t1', 'a'), message('t3', 'c')], deps);
    const kinds = (id: string): MessageResult | undefined => results.get(id);
    expect(kinds('m-t2-b')).toEqual({ kind: 'done' });
    expect(w.attempts).toContainEqual({
      id: 'b',
      outcome: { status: 'queued', error: 'Google Ads is not connected', attempted: false },
    });
    expect(kinds('m-t3-c')).toEqual({
      kind: 'deadLetter',
      reason: 'Google Ads is disconnected: reconnect the account',
    });
    expect(kinds('m-t1-a')).toEqual({ kind: 'done' });
    expect(w.calls).toHaveLength(1);
  });

  it('rethrows what is not a Google Ads failure', async () => {
    const { deps } = failingWith(new Error('bug'));
    await expect(uploadMessages([message('t1', 'a')], deps)).rejects.toThrow('bug');
  });
});

describe('a batch of the conversions queue, read', () => {
  it('sorts conversions, adjustments and status reads, with receives and waits; what is not a message is dead-lettered', () => {
    const conversionMessage = { version: 1, tenant_id: 't1', conversion_id: 'a' };
    const adjustment = adjustmentMessage('a');
    const statusMessage = requestStatusMessage();
    const waited = sqsRecord('m-adjust', JSON.stringify(adjustment));
    waited.attributes.ApproximateReceiveCount = '3';
    waited.messageAttributes = {
      [PROVIDER_RETRIES_ATTRIBUTE]: { stringValue: '2', dataType: 'Number' },
    } as typeof waited.messageAttributes;
    const batch = readBatch([
      sqsRecord('m-upload', JSON.stringify(conversionMessage)),
      waited,
      sqsRecord('m-status', JSON.stringify(statusMessage)),
      sqsRecord('m-text', 'not json'),
      sqsRecord('m-other', JSON.stringify({ kind: 'refund' })),
    ]);
    expect(batch.conversions).toEqual([
      { messageId: 'm-upload', message: conversionMessage, receiveCount: 1, providerRetries: 0 },
    ]);
    expect(batch.adjustments).toEqual([
      { messageId: 'm-adjust', message: adjustment, receiveCount: 3, providerRetries: 2 },
    ]);
    expect(batch.statusChecks).toEqual([statusMessage]);
    expect([...batch.invalid]).toEqual([
      ['m-text', { kind: 'deadLetter', reason: 'not JSON' }],
      ['m-other', { kind: 'deadLetter', reason: 'not a conversion message' }],
    ]);
  });
});
