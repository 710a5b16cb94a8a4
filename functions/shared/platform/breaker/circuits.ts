import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS } from '../../../../contract/metrics';
import { logger, metrics } from '../observability';
import { CircuitBreaker, type CircuitStore, type TransitionEvent } from './breaker';
import { type Circuit, type CircuitState, forcedClosed, PROVIDERS, type Provider } from './circuit';
import { DynamoCircuitStore } from './dynamo';

/**
 * The breakers every provider client goes through (one per provider, shared by every instance
 * through the system table), their metrics and log lines, the read API for `/health` and the
 * operator's override.
 */

let store: DynamoCircuitStore | undefined;
const sharedStore = () => {
  store ??= new DynamoCircuitStore();
  return store;
};
const breakers = new Map<Provider, CircuitBreaker>();

/** Metric `CircuitStateChange` (dimensions provider, state) and a structured log line. */
export function reportTransition(event: TransitionEvent): void {
  const metric = metrics.singleMetric();
  metric.addDimensions({ provider: event.provider, state: event.to });
  metric.addMetric(METRICS.circuitStateChange, MetricUnit.Count, 1);
  const fields = {
    event: 'circuit_state_change',
    provider: event.provider,
    from: event.from,
    to: event.to,
    ...(event.circuit.openedAt ? { opened_at: new Date(event.circuit.openedAt).toISOString() } : {}),
    ...(event.circuit.openUntil ? { half_open_at: new Date(event.circuit.openUntil).toISOString() } : {}),
  };
  if (event.to === 'open') logger.warn('Circuit opened', fields);
  else logger.info('Circuit state changed', fields);
}

/**
 * While a circuit refuses calls, how long it has been open (seconds since the outage began), per
 * provider: the alarms warn past 5 minutes and page past 30.
 */
export function reportOpen(provider: Provider, circuit: Circuit, now: number): void {
  if (circuit.openedAt === undefined) return;
  const metric = metrics.singleMetric();
  metric.addDimensions({ provider });
  metric.addMetric(
    METRICS.circuitOpenSeconds,
    MetricUnit.Seconds,
    Math.max(0, Math.round((now - circuit.openedAt) / 1000)),
  );
}

/** The shared breaker of a provider. */
export function breakerFor(provider: Provider): CircuitBreaker {
  let breaker = breakers.get(provider);
  if (!breaker) {
    breaker = new CircuitBreaker(provider, sharedStore(), {
      onTransition: reportTransition,
      onRefuse: (circuit, now) => reportOpen(provider, circuit, now),
      onStoreError: (error) =>
        logger.warn('Circuit store unavailable; the call goes ahead', { provider, error }),
    });
    breakers.set(provider, breaker);
  }
  return breaker;
}

/** Forget breakers and the store (tests that change the environment). */
export function resetBreakers(): void {
  breakers.clear();
  store = undefined;
}

export interface CircuitView {
  state: CircuitState;
  /** ISO time the current outage began (open or half-open). */
  opened_at?: string;
  last_success_at?: string;
  /** Seconds until the next probe may go (open or half-open). */
  retry_after_seconds?: number;
}

/**
 * What a circuit means now, for `/health`: an open circuit whose time is over is `half_open`
 * (the next call is the probe).
 */
export function viewOf(circuit: Circuit, now: number): CircuitView {
  const iso = (ms: number | undefined) => (ms === undefined ? {} : { at: new Date(ms).toISOString() });
  const success = iso(circuit.lastSuccessAt);
  const base = success.at ? { last_success_at: success.at } : {};
  if (circuit.state === 'closed') return { state: 'closed', ...base };
  const opened = iso(circuit.openedAt);
  const until = circuit.state === 'open' ? circuit.openUntil : circuit.probeUntil;
  const remaining = until === undefined ? 0 : Math.max(0, Math.ceil((until - now) / 1000));
  const state: CircuitState = circuit.state === 'open' && remaining === 0 ? 'half_open' : circuit.state;
  return {
    state,
    ...(opened.at ? { opened_at: opened.at } : {}),
    ...base,
    retry_after_seconds: remaining,
  };
}

/** Every provider's circuit, in one consistent read of the system table. */
export async function readCircuits(
  now: number = Date.now(),
  from: DynamoCircuitStore = sharedStore(),
): Promise<Record<Provider, CircuitView>> {
  const circuits = await from.readMany(PROVIDERS);
  const out = {} as Record<Provider, CircuitView>;
  for (const provider of PROVIDERS) out[provider] = viewOf(circuits.get(provider) as Circuit, now);
  return out;
}

/**
 * The operator's emergency override: closes the circuit now, whatever its state, forgetting
 * recent failures. Returns the state it was in.
 */
export async function forceClose(
  provider: Provider,
  into: CircuitStore = sharedStore(),
  now: () => number = Date.now,
): Promise<CircuitState> {
  for (let round = 0; round < 10; round += 1) {
    const circuit = await into.read(provider);
    const update = forcedClosed(circuit, now());
    if (await into.replace(provider, update.next, circuit.version)) {
      if (update.transition) reportTransition({ ...update.transition, provider, circuit: update.next });
      return circuit.state;
    }
  }
  throw new Error(`The ${provider} circuit kept changing while it was being closed; try again`);
}
