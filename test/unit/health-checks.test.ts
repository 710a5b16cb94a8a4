import {
  cachedFor,
  circuitOutcome,
  httpStatusFor,
  overallStatus,
  probeWriteDue,
  runCheck,
} from '../../functions/health/checks';

describe('overallStatus', () => {
  it('is healthy when every check passes', () => {
    expect(
      overallStatus({ a: { status: 'pass', latency_ms: 1 }, b: { status: 'pass', latency_ms: 1 } }),
    ).toBe('healthy');
  });

  it('is degraded on a warning and unhealthy on a failure', () => {
    expect(
      overallStatus({ a: { status: 'pass', latency_ms: 1 }, b: { status: 'warn', latency_ms: 1 } }),
    ).toBe('degraded');
    expect(
      overallStatus({ a: { status: 'warn', latency_ms: 1 }, b: { status: 'fail', latency_ms: 1 } }),
    ).toBe('unhealthy');
  });

  it('answers 503 only when unhealthy', () => {
    expect(httpStatusFor('healthy')).toBe(200);
    expect(httpStatusFor('degraded')).toBe(200);
    expect(httpStatusFor('unhealthy')).toBe(503);
  });
});

describe('runCheck', () => {
  it('reports the outcome and the measured latency', async () => {
    let t = 100;
    const result = await runCheck(
      async () => {
        t += 7;
        return { status: 'warn', detail: 'x' };
      },
      1_000,
      () => t,
    );
    expect(result).toEqual({ status: 'warn', detail: 'x', latency_ms: 7 });
  });

  it('fails without leaking the error message', async () => {
    const errors: unknown[] = [];
    const result = await runCheck(
      async () => {
        throw new Error('secret internals at arn:aws:...');
      },
      1_000,
      undefined,
      (e) => errors.push(e),
    );
    expect(result.status).toBe('fail');
    expect(result.detail).toBe('check failed');
    expect(JSON.stringify(result)).not.toContain('internals');
    expect(errors).toHaveLength(1);
  });

  it('fails a check that outlives its deadline and aborts it', async () => {
    let aborted = false;
    const result = await runCheck(
      (signal) =>
        new Promise((resolve) => {
          signal.addEventListener('abort', () => {
            aborted = true;
          });
          setTimeout(() => resolve({ status: 'pass' }), 1_000);
        }),
      20,
    );
    expect(result).toMatchObject({ status: 'fail', detail: 'no answer within 20 ms' });
    expect(aborted).toBe(true);
  });
});

describe('circuitOutcome', () => {
  it('passes with a closed circuit and names the last success when known', () => {
    expect(circuitOutcome('closed', '2026-12-01T10:00:00.000Z')).toEqual({
      status: 'pass',
      circuit: 'closed',
      last_success_at: '2026-12-01T10:00:00.000Z',
    });
    expect(circuitOutcome('closed')).toEqual({ status: 'pass', circuit: 'closed' });
  });

  it('degrades, never fails, with an open or half-open circuit', () => {
    const open = circuitOutcome('open');
    const halfOpen = circuitOutcome('half_open', '2026-12-01T10:00:00.000Z');
    expect(open).toMatchObject({ status: 'warn', circuit: 'open' });
    expect(halfOpen).toMatchObject({ status: 'warn', circuit: 'half_open' });
    const checks = {
      database: { status: 'pass', latency_ms: 1 },
      google_ads: { ...open, latency_ms: 0 },
    } as const;
    expect(overallStatus(checks)).toBe('degraded');
    expect(httpStatusFor(overallStatus(checks))).toBe(200);
  });
});

describe('probeWriteDue', () => {
  it('writes when the probe item is missing, unreadable or at least one interval old', () => {
    expect(probeWriteDue(undefined, 50_000, 10_000)).toBe(true);
    expect(probeWriteDue(Number.NaN, 50_000, 10_000)).toBe(true);
    expect(probeWriteDue(40_000, 50_000, 10_000)).toBe(true);
  });

  it('does not write while another write is younger than the interval', () => {
    expect(probeWriteDue(40_001, 50_000, 10_000)).toBe(false);
    expect(probeWriteDue(50_000, 50_000, 10_000)).toBe(false);
  });
});

describe('cachedFor', () => {
  it('shares one run among concurrent callers and serves its result until the interval ends', async () => {
    let t = 0;
    let runs = 0;
    let release: (value: number) => void = () => {};
    const get = cachedFor(
      () => {
        runs += 1;
        return new Promise<number>((resolve) => {
          release = resolve;
        });
      },
      5_000,
      () => t,
    );
    const burst = Array.from({ length: 50 }, () => get());
    release(7);
    expect(await Promise.all(burst)).toEqual(Array(50).fill(7));
    expect(runs).toBe(1);
    t = 4_999;
    expect(await get()).toBe(7);
    expect(runs).toBe(1);
    t = 5_000;
    const next = get();
    release(8);
    expect(await next).toBe(8);
    expect(runs).toBe(2);
  });

  it('does not keep a failed run, and forgets on reset', async () => {
    let runs = 0;
    const get = cachedFor(
      async () => {
        runs += 1;
        if (runs === 1) throw new Error('boom');
        return runs;
      },
      () => 60_000,
    );
    await expect(get()).rejects.toThrow('boom');
    expect(await get()).toBe(2);
    expect(await get()).toBe(2);
    get.reset();
    expect(await get()).toBe(3);
  });
});
