import type { CircuitStore } from '../../functions/shared/platform/breaker/breaker';
import { type Circuit, CLOSED, type Provider } from '../../functions/shared/platform/breaker/circuit';

/** Circuits in memory with the same compare-and-set contract as the DynamoDB store. */
export class MemoryCircuitStore implements CircuitStore {
  readonly circuits = new Map<Provider, Circuit>();
  reads = 0;
  writes = 0;

  async read(provider: Provider): Promise<Circuit> {
    this.reads += 1;
    return this.circuits.get(provider) ?? CLOSED;
  }

  async replace(provider: Provider, next: Circuit, expectedVersion: number): Promise<boolean> {
    const current = this.circuits.get(provider) ?? CLOSED;
    if (current.version !== expectedVersion) return false;
    this.writes += 1;
    this.circuits.set(provider, next);
    return true;
  }
}

/** A clock the test moves by hand. */
export class FakeClock {
  constructor(public ms = Date.UTC(2026, 10, 1, 12, 0, 0)) {}
  readonly now = () => this.ms;
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}
