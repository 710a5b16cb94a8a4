import {
  CircuitBreaker,
  CircuitOpenError,
  type TransitionEvent,
} from '../../functions/shared/platform/breaker/breaker';
import {
  afterCall,
  type CircuitSettings,
  CLOSED,
  circuitSettings,
  decide,
  type Outcome,
} from '../../functions/shared/platform/breaker/circuit';
import { forceClose, viewOf } from '../../functions/shared/platform/breaker/circuits';
import { DependencyUnavailableError } from '../../functions/shared/platform/errors/domain';
import { FakeClock, MemoryCircuitStore } from '../support/circuits';

const settings: CircuitSettings = circuitSettings({});

class ProviderDown extends Error {}
class RowError extends Error {}

/** What the tests' fake provider errors mean for its health. */
const classify = (error: unknown): Outcome =>
  error instanceof ProviderDown ? 'failure' : error instanceof RowError ? 'success' : 'neutral';

function setup() {
  const clock = new FakeClock();
  const store = new MemoryCircuitStore();
  const transitions: TransitionEvent[] = [];
  let probes = 0;
  const breaker = new CircuitBreaker('google_ads', store, {
    settings,
    now: clock.now,
    newProbeId: () => `probe-${++probes}`,
    onTransition: (event) => transitions.push(event),
  });
  let calls = 0;
  const ok = () =>
    breaker.call(async () => {
      calls += 1;
      return 'ok';
    }, classify);
  const down = () =>
    breaker.call(async () => {
      calls += 1;
      throw new ProviderDown('503');
    }, classify);
  return { clock, store, breaker, transitions, ok, down, calls: () => calls };
}

/** Failures while closed throw the provider's error; one that leaves the circuit open, CircuitOpenError. */
async function failTimes(down: () => Promise<unknown>, n: number) {
  for (let i = 0; i < n; i += 1) {
    const error = await down().catch((e: unknown) => e);
    const cause = error instanceof CircuitOpenError ? error.cause : error;
    expect(cause).toBeInstanceOf(ProviderDown);
  }
}

describe('circuit breaker against a fake clock', () => {
  it('has the contract defaults and reads its settings from the environment', () => {
    expect(settings).toMatchObject({ failureThreshold: 5, openMs: 60_000, windowMs: 60_000 });
    expect(circuitSettings({ CIRCUIT_FAILURE_THRESHOLD: '3', CIRCUIT_OPEN_SECONDS: '2' })).toMatchObject({
      failureThreshold: 3,
      openMs: 2_000,
    });
    expect(circuitSettings({ CIRCUIT_FAILURE_THRESHOLD: 'x', CIRCUIT_OPEN_SECONDS: '-1' })).toMatchObject({
      failureThreshold: 5,
      openMs: 60_000,
    });
  });

  it('allows calls when closed', async () => {
    const t = setup();
    await expect(t.ok()).resolves.toBe('ok');
    await expect(t.ok()).resolves.toBe('ok');
    expect(t.calls()).toBe(2);
    expect(t.store.circuits.get('google_ads')?.state ?? 'closed').toBe('closed');
  });

  it('opens after the threshold of provider failures within 60 s, once', async () => {
    const t = setup();
    await failTimes(t.down, 4);
    expect(t.store.circuits.get('google_ads')?.state).toBe('closed');
    t.clock.advance(30);
    // The failure that opens the circuit is reported as the outage it reveals.
    const opening = await t.down().catch((e: unknown) => e);
    expect(opening).toBeInstanceOf(CircuitOpenError);
    expect((opening as CircuitOpenError).cause).toBeInstanceOf(ProviderDown);
    expect((opening as CircuitOpenError).extra).toEqual({ retry_after: 60 });
    expect(t.store.circuits.get('google_ads')?.state).toBe('open');
    expect(t.transitions.map((e) => `${e.from}>${e.to}`)).toEqual(['closed>open']);
    expect(t.transitions[0]?.provider).toBe('google_ads');
  });

  it('does not open when the failures are spread over more than the window', async () => {
    const t = setup();
    for (let i = 0; i < 10; i += 1) {
      await failTimes(t.down, 1);
      t.clock.advance(15);
    }
    expect(t.store.circuits.get('google_ads')?.state).toBe('closed');
    expect(t.transitions).toEqual([]);
  });

  it('refuses when open without calling the provider, with the seconds until it half-opens', async () => {
    const t = setup();
    await failTimes(t.down, 5);
    const before = t.calls();
    t.clock.advance(20);
    const refused = await t.ok().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CircuitOpenError);
    expect(refused).toBeInstanceOf(DependencyUnavailableError);
    expect((refused as CircuitOpenError).extra).toEqual({ retry_after: 40 });
    expect((refused as CircuitOpenError).message).toBe('Google Ads is temporarily unavailable');
    expect(t.calls()).toBe(before);
  });

  it('half-opens after the open time and lets exactly one probe through', async () => {
    const t = setup();
    await failTimes(t.down, 5);
    t.clock.advance(60);
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const probe = t.breaker.call(async () => {
      await gate;
      return 'probe';
    }, classify);
    await new Promise((r) => setImmediate(r));
    expect(t.store.circuits.get('google_ads')?.state).toBe('half_open');
    await expect(t.ok()).rejects.toBeInstanceOf(CircuitOpenError);
    release();
    await expect(probe).resolves.toBe('probe');
    expect(t.transitions.map((e) => `${e.from}>${e.to}`)).toEqual([
      'closed>open',
      'open>half_open',
      'half_open>closed',
    ]);
  });

  it('closes after a successful probe: calls flow and old failures are forgotten', async () => {
    const t = setup();
    await failTimes(t.down, 5);
    t.clock.advance(61);
    await expect(t.ok()).resolves.toBe('ok');
    const circuit = t.store.circuits.get('google_ads');
    expect(circuit).toMatchObject({ state: 'closed', failures: [], lastSuccessAt: t.clock.ms });
    expect(circuit?.openedAt).toBeUndefined();
    await failTimes(t.down, 4);
    expect(t.store.circuits.get('google_ads')?.state).toBe('closed');
  });

  it('reopens after a failed probe for another open period, keeping when the outage began', async () => {
    const t = setup();
    await failTimes(t.down, 5);
    const openedAt = t.clock.ms;
    t.clock.advance(60);
    await failTimes(t.down, 1);
    expect(t.store.circuits.get('google_ads')).toMatchObject({
      state: 'open',
      openedAt,
      openUntil: t.clock.ms + 60_000,
    });
    const calls = t.calls();
    await expect(t.ok()).rejects.toBeInstanceOf(CircuitOpenError);
    expect(t.calls()).toBe(calls);
    expect(t.transitions.map((e) => e.to)).toEqual(['open', 'half_open', 'open']);
  });

  it('ignores answers that are the caller’s fault and errors that never reached the provider', async () => {
    const t = setup();
    for (let i = 0; i < 10; i += 1) {
      await expect(
        t.breaker.call(async () => {
          throw new RowError('INVALID_GCLID');
        }, classify),
      ).rejects.toBeInstanceOf(RowError);
      await expect(
        t.breaker.call(async () => {
          throw new TypeError('local bug');
        }, classify),
      ).rejects.toBeInstanceOf(TypeError);
    }
    expect(t.store.circuits.get('google_ads')?.state ?? 'closed').toBe('closed');
    expect(t.store.circuits.get('google_ads')?.failures ?? []).toEqual([]);
  });

  it('a probe that learns nothing frees the lease for the next caller', async () => {
    const t = setup();
    await failTimes(t.down, 5);
    t.clock.advance(60);
    await expect(
      t.breaker.call(async () => {
        throw new TypeError('local bug');
      }, classify),
    ).rejects.toBeInstanceOf(TypeError);
    expect(t.store.circuits.get('google_ads')?.state).toBe('half_open');
    await expect(t.ok()).resolves.toBe('ok');
    expect(t.store.circuits.get('google_ads')?.state).toBe('closed');
  });

  it('a probe whose instance died frees its lease when the lease expires', async () => {
    const t = setup();
    await failTimes(t.down, 5);
    t.clock.advance(60);
    await t.breaker.permit(); // the probe's instance never reports
    await expect(t.ok()).rejects.toBeInstanceOf(CircuitOpenError);
    t.clock.advance(settings.probeLeaseMs / 1000);
    await expect(t.ok()).resolves.toBe('ok');
  });

  it('records the last success at most once per interval while closed', async () => {
    const t = setup();
    await t.ok();
    await t.ok();
    expect(t.store.writes).toBe(1);
    t.clock.advance(11);
    await t.ok();
    expect(t.store.writes).toBe(2);
  });

  it('lets calls go ahead when the store cannot be read', async () => {
    const errors: unknown[] = [];
    const breaker = new CircuitBreaker(
      'stripe',
      {
        read: async () => {
          throw new Error('DynamoDB down');
        },
        replace: async () => true,
      },
      { settings, onStoreError: (e) => errors.push(e) },
    );
    await expect(breaker.call(async () => 'ok', classify)).resolves.toBe('ok');
    expect(errors).toHaveLength(1);
  });

  it('an operator forces an open circuit closed', async () => {
    const t = setup();
    await failTimes(t.down, 5);
    await expect(forceClose('google_ads', t.store, t.clock.now)).resolves.toBe('open');
    expect(t.store.circuits.get('google_ads')?.state).toBe('closed');
    await expect(t.ok()).resolves.toBe('ok');
    await expect(forceClose('google_ads', t.store, t.clock.now)).resolves.toBe('closed');
  });

  it('a probe result after an operator closed the circuit changes nothing', () => {
    const closedAgain = { ...CLOSED, version: 7 };
    expect(afterCall(closedAgain, 'failure', 0, settings, 'probe-1')).toBeUndefined();
    expect(decide(closedAgain, 0, settings, 'p')).toEqual({ kind: 'call' });
  });
});

describe('circuit view for /health', () => {
  const now = Date.UTC(2026, 10, 1, 12, 0, 0);
  it('shows closed with the last success', () => {
    expect(viewOf({ ...CLOSED, lastSuccessAt: now - 1000 }, now)).toEqual({
      state: 'closed',
      last_success_at: '2026-11-01T11:59:59.000Z',
    });
    expect(viewOf(CLOSED, now)).toEqual({ state: 'closed' });
  });

  it('shows open with when it opened and the seconds until the probe; half-open once that time is over', () => {
    const open = {
      ...CLOSED,
      state: 'open' as const,
      version: 3,
      openedAt: now - 90_000,
      openUntil: now + 30_000,
    };
    expect(viewOf(open, now)).toEqual({
      state: 'open',
      opened_at: '2026-11-01T11:58:30.000Z',
      retry_after_seconds: 30,
    });
    expect(viewOf(open, now + 31_000).state).toBe('half_open');
    const probing = { ...open, state: 'half_open' as const, openUntil: undefined, probeUntil: now + 5_000 };
    expect(viewOf(probing, now)).toMatchObject({ state: 'half_open', retry_after_seconds: 5 });
  });
});
