import type { SQSRecord } from 'aws-lambda';
import { CircuitOpenError } from '../../functions/shared/platform/breaker/breaker';
import {
  circuitWaitSeconds,
  MAX_PROVIDER_RETRIES,
  providerRetriesOf,
  providerRetrySeconds,
  waitPlan,
} from '../../functions/shared/platform/queues/wait';

const record = (retries?: string): SQSRecord =>
  ({
    messageId: 'm',
    body: '{}',
    messageAttributes:
      retries === undefined ? {} : { provider_retries: { dataType: 'Number', stringValue: retries } },
  }) as unknown as SQSRecord;

class Down extends Error {}
const isDown = (e: unknown) => e instanceof Down;

describe('waiting for a provider without spending receives', () => {
  it('waits until the circuit half-opens, with up to 20 % jitter, within SQS’s 900 s', () => {
    expect(circuitWaitSeconds(60, 0)).toBe(60);
    expect(circuitWaitSeconds(60, 1)).toBe(72);
    expect(circuitWaitSeconds(0, 0)).toBe(1);
    expect(circuitWaitSeconds(5_000, 0.5)).toBe(900);
  });

  it('backs off exponentially after provider failures, never below what the provider asked', () => {
    expect(providerRetrySeconds(0, 30, 1)).toBe(30);
    expect(providerRetrySeconds(2, 30, 1)).toBe(120);
    expect(providerRetrySeconds(2, 30, 0)).toBe(60);
    expect(providerRetrySeconds(10, 30, 1)).toBe(900);
    expect(providerRetrySeconds(0, 30, 0, 45)).toBe(45);
  });

  it('reads the provider retries a message carries', () => {
    expect(providerRetriesOf(record())).toBe(0);
    expect(providerRetriesOf(record('3'))).toBe(3);
    expect(providerRetriesOf(record('x'))).toBe(0);
  });

  it('an open circuit always waits and costs no provider retry', () => {
    const plan = waitPlan(
      new CircuitOpenError('stripe', 40),
      record(String(MAX_PROVIDER_RETRIES)),
      isDown,
      30,
      0,
    );
    expect(plan).toEqual({ delaySeconds: 40, providerRetries: MAX_PROVIDER_RETRIES, reason: 'circuit_open' });
  });

  it('a provider failure while closed waits a bounded number of times, then takes the ordinary retries', () => {
    expect(waitPlan(new Down(), record(), isDown, 30, 1)).toEqual({
      delaySeconds: 30,
      providerRetries: 1,
      reason: 'provider_failure',
    });
    expect(waitPlan(new Down(), record(String(MAX_PROVIDER_RETRIES)), isDown, 30, 1)).toBeUndefined();
    expect(waitPlan(new TypeError('bug'), record(), isDown, 30, 1)).toBeUndefined();
  });
});
