import { randomUUID } from 'node:crypto';
import { DependencyUnavailableError } from '../errors/domain';
import {
  afterCall,
  type Circuit,
  type CircuitSettings,
  circuitSettings,
  decide,
  type Outcome,
  type Provider,
  retryAfterSeconds,
  type Transition,
  waitMs,
} from './circuit';

/**
 * A circuit breaker whose state lives in a store every instance shares: failures seen by any
 * instance add up, and of all the instances exactly one sends the half-open probe (the one whose
 * conditional write takes the lease). The state machine is `circuit.ts`; this module only reads,
 * decides and writes with compare-and-set on the circuit's version.
 */

/** Circuits as stored, with compare-and-set on their version. */
export interface CircuitStore {
  read(provider: Provider): Promise<Circuit>;
  /** Writes `next` if the stored version is still `expectedVersion`; false when another writer won. */
  replace(provider: Provider, next: Circuit, expectedVersion: number): Promise<boolean>;
}

/** The provider's circuit is open: no call was made. Synchronous callers answer 503. */
export class CircuitOpenError extends DependencyUnavailableError {
  constructor(
    readonly provider: Provider,
    retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(provider, retryAfterSeconds, `${providerName(provider)} is temporarily unavailable`);
    if (options && 'cause' in options) this.cause = options.cause;
  }
}

/** How an answer names each provider (a new provider fails the typecheck here until it has one). */
const PROVIDER_NAMES: Record<Provider, string> = { google_ads: 'Google Ads', meta: 'Meta', stripe: 'Stripe' };

export function providerName(provider: Provider): string {
  return PROVIDER_NAMES[provider];
}

export interface TransitionEvent extends Transition {
  provider: Provider;
  circuit: Circuit;
}

export interface BreakerOptions {
  settings?: CircuitSettings;
  now?: () => number;
  newProbeId?: () => string;
  /** Every state change, once, by the instance that wrote it (metric and log line). */
  onTransition?: (event: TransitionEvent) => void;
  /** A call was refused: the circuit as read (for the how-long-open metric). */
  onRefuse?: (circuit: Circuit, now: number) => void;
  /** The store failed: the call goes ahead (the breaker protects the provider, not a secret). */
  onStoreError?: (error: unknown) => void;
}

/** What `permit` granted: a plain call, or the one half-open probe. */
export interface Permit {
  readonly probeId?: string;
  /** The circuit as read when the permit was granted. */
  readonly circuit: Circuit;
}

/** Compare-and-set rounds before giving up on recording one outcome. */
const MAX_ROUNDS = 8;

export class CircuitBreaker {
  private readonly settings: CircuitSettings;
  private readonly now: () => number;
  private readonly newProbeId: () => string;

  constructor(
    readonly provider: Provider,
    private readonly store: CircuitStore,
    private readonly options: BreakerOptions = {},
  ) {
    this.settings = options.settings ?? circuitSettings();
    this.now = options.now ?? Date.now;
    this.newProbeId = options.newProbeId ?? randomUUID;
  }

  /**
   * Runs `fn` if the circuit lets it: `classify` says what a thrown error means for the
   * provider's health. Throws CircuitOpenError without calling `fn` while the circuit is open
   * (or another instance holds the probe), else whatever `fn` throws.
   */
  async call<T>(fn: () => Promise<T>, classify: (error: unknown) => Outcome): Promise<T> {
    const permit = await this.permit();
    let result: T;
    try {
      result = await fn();
    } catch (error) {
      const outcome = classify(error);
      const after = await this.settle(permit, outcome);
      // The outage is established (this failure opened the circuit, or it already was open):
      // callers treat it like a refusal, waiting rather than spending their own retries.
      if (outcome === 'failure' && after && after.state !== 'closed') {
        throw new CircuitOpenError(
          this.provider,
          retryAfterSeconds(waitMs(after, this.now(), this.settings)),
          { cause: error },
        );
      }
      throw error;
    }
    await this.settle(permit, 'success');
    return result;
  }

  /** A call may go ahead, or CircuitOpenError. */
  async permit(): Promise<Permit> {
    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      let circuit: Circuit;
      try {
        circuit = await this.store.read(this.provider);
      } catch (error) {
        this.options.onStoreError?.(error);
        return { circuit: { state: 'closed', version: -1, failures: [] } };
      }
      const now = this.now();
      const decision = decide(circuit, now, this.settings, this.newProbeId());
      if (decision.kind === 'call') return { circuit };
      if (decision.kind === 'refuse') {
        this.options.onRefuse?.(circuit, now);
        throw new CircuitOpenError(this.provider, retryAfterSeconds(decision.retryAfterMs));
      }
      let won: boolean;
      try {
        won = await this.write(decision.next, circuit.version, decision.transition);
      } catch (error) {
        this.options.onStoreError?.(error);
        return { circuit: { state: 'closed', version: -1, failures: [] } };
      }
      if (won) return { probeId: decision.next.probeId as string, circuit: decision.next };
      // Another instance wrote first (most likely took the lease): read again.
    }
    throw new CircuitOpenError(this.provider, 1);
  }

  /**
   * Records how a permitted call ended; the circuit as it then stands (undefined when unknown).
   * Never throws: a lost update only costs accuracy.
   */
  async settle(permit: Permit, outcome: Outcome): Promise<Circuit | undefined> {
    if (permit.circuit.version < 0) return undefined;
    let circuit = permit.circuit;
    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      const update = afterCall(circuit, outcome, this.now(), this.settings, permit.probeId);
      if (!update) return circuit;
      try {
        if (await this.write(update.next, circuit.version, update.transition)) return update.next;
        circuit = await this.store.read(this.provider);
      } catch (error) {
        this.options.onStoreError?.(error);
        return undefined;
      }
    }
    return undefined;
  }

  private async write(next: Circuit, expectedVersion: number, transition?: Transition): Promise<boolean> {
    const written = await this.store.replace(this.provider, next, expectedVersion);
    if (written && transition) {
      this.options.onTransition?.({ ...transition, provider: this.provider, circuit: next });
    }
    return written;
  }
}
