import { adjustMessages } from '../../functions/conversion-uploader/adjust';
import { type QueuedAdjustment, scopeFor } from '../../functions/conversion-uploader/messages';
import { emptyMetrics } from '../../functions/conversion-uploader/metrics';
import type { AdjustDeps } from '../../functions/conversion-uploader/ports';
import { NEVER_UPLOADED } from '../../functions/conversion-uploader/screen';
import {
  checkRequestStatus,
  MAX_STATUS_CHECKS,
  statusDelaySeconds,
} from '../../functions/conversion-uploader/status';
import type {
  LoggedConversion,
  RecordedProcessing,
  UploadBatchRecord,
} from '../../functions/shared/features/conversions/dynamo-log';
import type { Adjustment, RequestStatusMessage } from '../../functions/shared/features/conversions/model';
import {
  type AdjustmentRow,
  type ConversionProvider,
  ProviderFailure,
  type SendResult,
} from '../../functions/shared/features/conversions/ports-provider';
import { conversionFormOf } from '../../functions/shared/features/conversions/schema';
import {
  adjustConversion,
  adjustmentId,
  apiAdjustment,
  plannedConversions,
  refundPlan,
} from '../../functions/shared/features/conversions/service';
import type { StoredLead } from '../../functions/shared/features/leads/model';
import { CircuitOpenError } from '../../functions/shared/platform/breaker/breaker';
import {
  DomainConflictError,
  DomainNotFoundError,
  DomainValidationError,
} from '../../functions/shared/platform/errors/domain';
import { MAX_PROVIDER_RETRIES } from '../../functions/shared/platform/queues/wait';
import { fbclid, gclid } from '../support/click-ids';
import { adjustmentMessage, requestStatusMessage } from '../support/conversion-messages';
import { storedConversion, storedLead } from '../support/fixtures';

const NOW = new Date('2026-11-25T12:00:00Z');
const scope = scopeFor('t1');

const lead = (overrides: Partial<StoredLead> = {}): StoredLead =>
  storedLead({ id: 'lead_abc', gclid: gclid(1), status: 'qualified', ...overrides });

const conversion = (overrides: Partial<LoggedConversion> = {}): LoggedConversion =>
  storedConversion({ lead_id: 'lead_abc', status: 'uploaded', attempts: 1, value: 100, ...overrides });

/** A connected Google Ads provider that sends nothing; a test gives the one capability it exercises. */
const googleProvider = (capability: Partial<ConversionProvider>): ConversionProvider => ({
  platform: 'google_ads',
  transport: 'data_manager',
  maxPerRequest: 2000,
  connect: async () => ({ kind: 'ready', session: {}, account: '1' }),
  rejectionReason: () => undefined,
  send: async () => ({ outcomes: [], requestIds: [], requests: [] }),
  onFailure: async () => {},
  ...capability,
});

describe('POST /api/v1/conversions forms', () => {
  it('selects the form by its field', () => {
    expect(conversionFormOf({ lead_id: 'x' })?.form).toBe('lead');
    expect(conversionFormOf({ gbraid: 'x' })?.form).toBe('google_click');
    expect(conversionFormOf({ value: 1 })).toBeUndefined();
    expect(conversionFormOf([])).toBeUndefined();
  });
});

describe('planned conversions', () => {
  it('by lead: one per platform with a click id, ids from the lead (or the order), the click time checked', () => {
    const both = plannedConversions(
      scope,
      { form: 'lead', body: { lead_id: 'lead_abc' } },
      lead({ fbclid: fbclid(1) }),
      NOW,
    );
    expect(both.map((c) => [c.id, c.platform])).toEqual([
      ['cnv_abcg', 'google_ads'],
      ['cnv_abcm', 'meta'],
    ]);
    const byOrder = plannedConversions(
      scope,
      { form: 'lead', body: { lead_id: 'lead_abc', order_id: 'o-1', value: 5 } },
      lead(),
      NOW,
    );
    expect(byOrder[0]).toMatchObject({ order_id: 'o-1', value: 5, conversion_time: NOW.toISOString() });
    expect(byOrder[0]?.id).not.toBe('cnv_abcg');
    expect(() =>
      plannedConversions(
        scope,
        { form: 'lead', body: { lead_id: 'x' } },
        lead({ click_time: '2026-11-25T13:00:00Z' }),
        NOW,
      ),
    ).toThrow('The conversion happened before the click');
    expect(() => plannedConversions(scope, { form: 'lead', body: { lead_id: 'x' } }, undefined, NOW)).toThrow(
      DomainNotFoundError,
    );
    expect(() =>
      plannedConversions(scope, { form: 'lead', body: { lead_id: 'x' } }, lead({ restricted: true }), NOW),
    ).toThrow(DomainConflictError);
    expect(() =>
      plannedConversions(scope, { form: 'lead', body: { lead_id: 'x' } }, lead({ gclid: undefined }), NOW),
    ).toThrow(DomainValidationError);
  });

  it('by raw click id: id from the tenant and order (else click and time), too old refused with the exact message', () => {
    const body = { gclid: gclid(2), conversion_time: '2026-11-25T10:00:00+01:00', value: 9, order_id: 'o-9' };
    const [one] = plannedConversions(scope, { form: 'google_click', body }, undefined, NOW);
    expect(one).toMatchObject({
      platform: 'google_ads',
      order_id: 'o-9',
      conversion_time: '2026-11-25T09:00:00.000Z',
      click_id_type: 'gclid',
      event_source: 'other',
    });
    expect(one).not.toHaveProperty('consent');
    const [same] = plannedConversions(
      scope,
      { form: 'google_click', body: { ...body, value: 10 } },
      undefined,
      NOW,
    );
    expect(same?.id).toBe(one?.id);
    const [other] = plannedConversions(scopeFor('t2'), { form: 'google_click', body }, undefined, NOW);
    expect(other?.id).not.toBe(one?.id);
    const [noOrder] = plannedConversions(
      scope,
      { form: 'google_click', body: { gclid: gclid(2), conversion_time: body.conversion_time } },
      undefined,
      NOW,
    );
    expect(noOrder?.order_id).toBe(noOrder?.id);
    const old = () =>
      plannedConversions(
        scope,
        { form: 'google_click', body: { gclid: gclid(2), conversion_time: '2026-08-01T00:00:00Z' } },
        undefined,
        NOW,
      );
    expect(old).toThrow('Conversion is too old (must be within 90 days)');
    expect(() =>
      plannedConversions(
        scope,
        { form: 'google_click', body: { gclid: gclid(2), conversion_time: '2026-11-26T12:00:00Z' } },
        undefined,
        NOW,
      ),
    ).toThrow('The conversion time is in the future');
  });
});

describe('refunds', () => {
  const id = 'cnv_1';
  const earlier = (amount: number, key: string): Adjustment => ({
    id: adjustmentId(id, key),
    conversion_id: id,
    type: 'restatement',
    status: 'applied',
    attempts: 1,
    source: 'shopify',
    refund_amount: amount,
    adjustment_time: NOW.toISOString(),
    created_at: NOW.toISOString(),
    updated_at: NOW.toISOString(),
  });

  it('restates with what remains, refunds adding up; retracts when nothing remains', () => {
    expect(refundPlan({ value: 100, currency: 'EUR' }, [], { key: 'r1', amount: 30 }, id)).toEqual({
      type: 'restatement',
      value: 70,
      currency: 'EUR',
      source: 'shopify',
      key: 'r1',
      refundAmount: 30,
    });
    expect(refundPlan({ value: 100 }, [earlier(30, 'r1')], { key: 'r2', amount: 50 }, id)).toMatchObject({
      type: 'restatement',
      value: 20,
    });
    // The same refund again is not counted twice.
    expect(refundPlan({ value: 100 }, [earlier(30, 'r1')], { key: 'r1', amount: 30 }, id)).toMatchObject({
      value: 70,
    });
    expect(refundPlan({ value: 100 }, [earlier(30, 'r1')], { key: 'r2', amount: 70 }, id).type).toBe(
      'retraction',
    );
    expect(refundPlan({ value: 149.9 }, [], { key: 'r', amount: 149.9 }, id).type).toBe('retraction');
    expect(refundPlan({}, [], { key: 'r', amount: 1 }, id).type).toBe('retraction');
  });

  it('API adjustments: the same content is the same adjustment', () => {
    expect(apiAdjustment({ type: 'restatement', value: 5, currency: 'USD' })).toEqual({
      type: 'restatement',
      value: 5,
      currency: 'USD',
      source: 'api',
      key: 'api:restatement:5:USD',
    });
    expect(apiAdjustment({ type: 'retraction' }).key).toBe('api:retraction::');
  });

  it('adjusts only an uploaded Google Ads conversion of the tenant; a repeat finds the first', async () => {
    const stored: Adjustment[] = [];
    const conversions = new Map([
      ['cnv_1', conversion()],
      ['cnv_q', conversion({ id: 'cnv_q', status: 'queued' })],
      ['cnv_m', conversion({ id: 'cnv_m', platform: 'meta' })],
    ]);
    const deps = {
      leads: { get: async () => undefined },
      conversions: {
        queue: async () => 'queued' as const,
        get: async (_t: string, cid: string) => conversions.get(cid),
        queueAdjustment: async (_s: unknown, a: Adjustment) => {
          stored.push(a);
          return 'queued' as const;
        },
        adjustments: async () => stored,
      },
    };
    const restate = () =>
      adjustConversion(deps, scope, 'cnv_1', apiAdjustment({ type: 'restatement', value: 5 }), NOW);
    const first = await restate();
    expect(first).toMatchObject({
      kind: 'queued',
      adjustment: { type: 'restatement', value: 5, currency: 'EUR', status: 'queued' },
    });
    const again = await restate();
    expect(again).toEqual({ kind: 'exists', adjustment: first.adjustment });
    await expect(
      adjustConversion(deps, scope, 'nope', apiAdjustment({ type: 'retraction' }), NOW),
    ).rejects.toThrow(DomainNotFoundError);
    await expect(
      adjustConversion(deps, scope, 'cnv_q', apiAdjustment({ type: 'retraction' }), NOW),
    ).rejects.toThrow('Only an uploaded conversion can be adjusted (this one is queued)');
    await expect(
      adjustConversion(deps, scope, 'cnv_m', apiAdjustment({ type: 'retraction' }), NOW),
    ).rejects.toThrow('Only Google Ads conversions can be retracted or restated');
    // A refund of a conversion still on its way waits for it.
    expect(
      (await adjustConversion(deps, scope, 'cnv_q', apiAdjustment({ type: 'retraction' }), NOW, 60)).kind,
    ).toBe('queued');
  });
});

describe('request status checks', () => {
  const batch: UploadBatchRecord = {
    id: 'b1',
    tenant_id: 't1',
    platform: 'google_ads',
    customer_id: '1',
    size: 2,
    successes: 2,
    failures: 0,
    rescheduled: 0,
    duration_ms: 1,
    outcome: 'completed',
    google_request_id: 'r-1',
    conversion_ids: ['a', 'b'],
    created_at: NOW.toISOString(),
  };
  const message = requestStatusMessage();

  function world(
    status: () => Promise<Awaited<ReturnType<NonNullable<ConversionProvider['requestStatus']>>>>,
  ) {
    const recorded: RecordedProcessing[] = [];
    const scheduled: Array<[RequestStatusMessage, number]> = [];
    const provider = googleProvider({ requestStatus: status });
    const deps = {
      batch: async (_t: string, id: string) => (id === 'b1' ? batch : undefined),
      recordProcessing: async (_b: UploadBatchRecord, p: RecordedProcessing) => {
        recorded.push(p);
      },
      providers: { google_ads: provider },
      schedule: async (m: RequestStatusMessage, delay: number) => {
        scheduled.push([m, delay]);
      },
      now: () => NOW,
      firstDelaySeconds: 60,
    };
    return { deps, recorded, scheduled };
  }

  it('records the outcome; while processing, looks again with backoff, a bounded number of times', async () => {
    const done = world(async () => ({ state: 'succeeded', errors: {}, warnings: {}, records: 2 }));
    expect(await checkRequestStatus(message, done.deps)).toBe('recorded');
    expect(done.recorded).toEqual([
      {
        state: 'succeeded',
        errors: {},
        warnings: {},
        records: 2,
        request_id: 'r-1',
        checked_at: NOW.toISOString(),
      },
    ]);
    const busy = world(async () => ({ state: 'processing', errors: {}, warnings: {} }));
    expect(await checkRequestStatus(message, busy.deps)).toBe('rescheduled');
    expect(busy.scheduled).toEqual([[{ ...message, checks: 1 }, 120]]);
    expect(await checkRequestStatus({ ...message, checks: MAX_STATUS_CHECKS - 1 }, busy.deps)).toBe(
      'recorded',
    );
    expect(busy.recorded[0]?.state).toBe('processing');
    expect(statusDelaySeconds(10, 60)).toBe(900);
    expect(await checkRequestStatus({ ...message, batch_id: 'gone' }, done.deps)).toBe('skipped');
  });

  it('a transient failure looks again later; another failure gives up', async () => {
    const down = world(async () => {
      throw new ProviderFailure('transient', 'down');
    });
    expect(await checkRequestStatus(message, down.deps)).toBe('rescheduled');
    const refused = world(async () => {
      throw new ProviderFailure('configuration', 'no');
    });
    expect(await checkRequestStatus(message, refused.deps)).toBe('skipped');
    const bug = world(async () => {
      throw new Error('bug');
    });
    await expect(checkRequestStatus(message, bug.deps)).rejects.toThrow('bug');
  });
});

describe('sending adjustments', () => {
  const adjustment = (overrides: Partial<Adjustment> = {}): Adjustment => ({
    id: 'adj_1',
    conversion_id: 'cnv_1',
    type: 'retraction',
    status: 'queued',
    attempts: 0,
    source: 'api',
    adjustment_time: NOW.toISOString(),
    created_at: NOW.toISOString(),
    updated_at: NOW.toISOString(),
    ...overrides,
  });
  const queued = (conversionId: string, id = 'adj_1'): QueuedAdjustment => ({
    messageId: `m-${conversionId}-${id}`,
    message: adjustmentMessage(conversionId, id),
    receiveCount: 1,
  });

  function world(adjust: (rows: AdjustmentRow[]) => Promise<SendResult>) {
    const adjustments = new Map<string, Adjustment>();
    const conversions = new Map<string, LoggedConversion>();
    const records: Array<[string, Record<string, unknown>]> = [];
    const later: string[] = [];
    const provider = googleProvider({ adjust: async (_s, rows) => adjust(rows) });
    const deps: AdjustDeps = {
      adjustments: {
        get: async (_t, cid, id) => adjustments.get(`${cid}/${id}`),
        record: async (_t, cid, _id, outcome) => {
          records.push([cid, outcome]);
          return true;
        },
        later: async (m) => {
          later.push(m.conversion_id);
        },
      },
      conversions: { get: async (_t, id) => conversions.get(id) },
      leads: { get: async () => undefined },
      providers: { google_ads: provider },
      now: () => NOW,
      random: () => 1,
      retryBaseSeconds: 10,
    };
    return { deps, adjustments, conversions, records, later };
  }

  it('applies, fails with reasons, waits for conversions on their way, and refuses what was never uploaded', async () => {
    const w = world(async (rows) => ({
      outcomes: rows.map((r) =>
        r.conversion.id === 'cnv_bad' ? { kind: 'failed', reason: 'Google said no' } : { kind: 'uploaded' },
      ),
      requestIds: rows.map(() => 'g-1'),
      requests: [{ requestId: 'g-1', rows: rows.map((_r, i) => i), durationMs: 3 }],
    }));
    for (const [id, status] of [
      ['cnv_ok', 'uploaded'],
      ['cnv_bad', 'uploaded'],
      ['cnv_wait', 'queued'],
      ['cnv_never', 'failed'],
    ] as const) {
      w.conversions.set(id, conversion({ id, status }));
      w.adjustments.set(`${id}/adj_1`, adjustment({ conversion_id: id }));
    }
    w.adjustments.set('cnv_ok/adj_done', adjustment({ id: 'adj_done', status: 'applied' }));
    const metrics = emptyMetrics();
    const results = await adjustMessages(
      ['cnv_ok', 'cnv_bad', 'cnv_wait', 'cnv_never', 'cnv_gone']
        .map((id) => queued(id))
        .concat(queued('cnv_ok', 'adj_done')),
      w.deps,
      metrics,
    );
    expect([...results.values()].every((r) => r.kind === 'done')).toBe(true);
    expect(w.records).toEqual(
      expect.arrayContaining([
        ['cnv_ok', { status: 'applied', requestId: 'g-1' }],
        ['cnv_bad', { status: 'failed', error: 'Google said no', requestId: 'g-1' }],
        ['cnv_wait', { status: 'queued', error: 'Waiting for the conversion to be uploaded' }],
        ['cnv_never', { status: 'failed', error: NEVER_UPLOADED, attempted: false }],
      ]),
    );
    expect(w.later).toEqual(['cnv_wait']);
    expect(metrics).toMatchObject({ uploaded: 1, failed: 1, batchSizes: [2] });
  });

  it('transient failures back off; a stopped account parks; a rejection fails', async () => {
    for (const [failure, expected] of [
      [
        new ProviderFailure('transient', 'down', 30),
        { kind: 'wait', delaySeconds: 30, providerRetries: 1, reason: 'down' },
      ],
      [
        new ProviderFailure('transient', 'conflict', undefined, 409),
        { kind: 'retry', delaySeconds: 10, reason: 'conflict' },
      ],
      [new ProviderFailure('disconnected', 'revoked'), { kind: 'deadLetter', reason: 'revoked' }],
      // The account refuses enhanced conversions for leads: parked for a redrive after the fix.
      [
        new ProviderFailure('needs_configuration', 'not enabled'),
        { kind: 'deadLetter', reason: 'not enabled' },
      ],
      [new ProviderFailure('rejected', 'bad'), { kind: 'done' }],
    ] as const) {
      const w = world(async () => {
        throw failure;
      });
      w.conversions.set('cnv_1', conversion());
      w.adjustments.set('cnv_1/adj_1', adjustment());
      const results = await adjustMessages([queued('cnv_1')], w.deps, emptyMetrics());
      expect(results.get('m-cnv_1-adj_1')).toEqual(expected);
    }
  });

  it('an unwell platform: waits without spending receives a bounded number of times, then the counted retries', async () => {
    const w = world(async () => {
      throw new ProviderFailure('transient', 'Google answered 503', undefined, 503);
    });
    w.conversions.set('cnv_1', conversion());
    w.adjustments.set('cnv_1/adj_1', adjustment());
    const third = { ...queued('cnv_1'), providerRetries: 2 };
    const metrics = emptyMetrics();
    const results = await adjustMessages([third], w.deps, metrics);
    expect(results.get('m-cnv_1-adj_1')).toEqual({
      kind: 'wait',
      delaySeconds: 40,
      providerRetries: 3,
      reason: 'Google answered 503',
    });
    expect(metrics).toMatchObject({ waiting: 1, retried: 0 });
    expect(w.records).toEqual([['cnv_1', { status: 'queued', error: 'Google answered 503' }]]);

    const spent = { ...queued('cnv_1'), providerRetries: MAX_PROVIDER_RETRIES, receiveCount: 2 };
    const after = await adjustMessages([spent], w.deps, emptyMetrics());
    expect(after.get('m-cnv_1-adj_1')).toEqual({
      kind: 'retry',
      delaySeconds: 20,
      reason: 'Google answered 503',
    });
  });

  it('an open circuit: nothing is sent, the adjustment stays queued and its message waits until the circuit half-opens', async () => {
    const sent: AdjustmentRow[][] = [];
    const w = world(async (rows) => {
      sent.push(rows);
      throw new CircuitOpenError('google_ads', 50);
    });
    w.conversions.set('cnv_1', conversion());
    w.adjustments.set('cnv_1/adj_1', adjustment());
    const metrics = emptyMetrics();
    const results = await adjustMessages([{ ...queued('cnv_1'), providerRetries: 3 }], w.deps, metrics);
    // random() is 1: the wait is the time to half-open plus 20 %.
    expect(results.get('m-cnv_1-adj_1')).toEqual({
      kind: 'wait',
      delaySeconds: 60,
      providerRetries: 3,
      reason: 'Google Ads is temporarily unavailable (circuit open)',
    });
    expect(w.records).toEqual([
      [
        'cnv_1',
        { status: 'queued', error: 'Google Ads is temporarily unavailable (circuit open)', attempted: false },
      ],
    ]);
    expect(metrics).toMatchObject({ waiting: 1, failed: 0, retried: 0 });

    // The request that opened the circuit failed: recorded as an attempt, and the message waits.
    const opened = world(async () => {
      throw new CircuitOpenError('google_ads', 50, {
        cause: new ProviderFailure('transient', 'Google answered 503', undefined, 503),
      });
    });
    opened.conversions.set('cnv_1', conversion());
    opened.adjustments.set('cnv_1/adj_1', adjustment());
    const first = await adjustMessages([queued('cnv_1')], opened.deps, emptyMetrics());
    expect(first.get('m-cnv_1-adj_1')).toMatchObject({ kind: 'wait', delaySeconds: 60, providerRetries: 0 });
    expect(opened.records).toEqual([['cnv_1', { status: 'queued', error: 'Google answered 503' }]]);
  });

  it('an error that is not the platform answering fails the batch', async () => {
    const w = world(async () => {
      throw new TypeError('a bug');
    });
    w.conversions.set('cnv_1', conversion());
    w.adjustments.set('cnv_1/adj_1', adjustment());
    await expect(adjustMessages([queued('cnv_1')], w.deps, emptyMetrics())).rejects.toThrow('a bug');
  });
});
