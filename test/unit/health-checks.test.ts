import { httpStatusFor, overallStatus, runCheck } from '../../functions/health/checks';

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
