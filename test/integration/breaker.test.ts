import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CircuitBreaker, CircuitOpenError } from '../../functions/shared/platform/breaker/breaker';
import { circuitSettings, type Outcome } from '../../functions/shared/platform/breaker/circuit';
import { forceClose, readCircuits } from '../../functions/shared/platform/breaker/circuits';
import { DynamoCircuitStore } from '../../functions/shared/platform/breaker/dynamo';
import { emulatorUrl, freshResources } from '../support/emulator';

/**
 * Two "instances": each has its own DynamoDB client and breaker object, sharing only the system
 * table, as two Lambda execution environments do.
 */
class ProviderDown extends Error {}
const classify = (error: unknown): Outcome => (error instanceof ProviderDown ? 'failure' : 'neutral');
const settings = circuitSettings({});

describe('shared circuit breaker against the emulator', () => {
  let table: string;
  const clients: DynamoDBClient[] = [];
  let clock: number;

  const instance = () => {
    const client = new DynamoDBClient({ endpoint: emulatorUrl(), region: 'us-east-1' });
    clients.push(client);
    const store = new DynamoCircuitStore(
      DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
      table,
    );
    return { store, breaker: new CircuitBreaker('meta', store, { settings, now: () => clock }) };
  };

  beforeEach(async () => {
    const env = await freshResources();
    table = env.SYSTEM_TABLE as string;
    clock = Date.UTC(2026, 10, 1, 12, 0, 0);
  });
  afterAll(() => {
    for (const c of clients) c.destroy();
  });

  it('two instances sum their failures into one opening', async () => {
    const a = instance();
    const b = instance();
    const down = async (breaker: CircuitBreaker) => {
      const error = await breaker
        .call(async () => {
          throw new ProviderDown();
        }, classify)
        .catch((e: unknown) => e);
      expect(error instanceof CircuitOpenError ? error.cause : error).toBeInstanceOf(ProviderDown);
    };
    await down(a.breaker);
    await down(b.breaker);
    await down(a.breaker);
    await down(b.breaker);
    expect((await a.store.read('meta')).state).toBe('closed');
    await down(a.breaker);
    // Neither instance saw five failures itself; together they opened the circuit for both.
    expect((await b.store.read('meta')).state).toBe('open');
    let called = false;
    await expect(
      b.breaker.call(async () => {
        called = true;
      }, classify),
    ).rejects.toBeInstanceOf(CircuitOpenError);
    expect(called).toBe(false);
    const views = await readCircuits(clock, a.store);
    expect(views.meta).toMatchObject({ state: 'open', retry_after_seconds: 60 });
    expect(views.google_ads).toEqual({ state: 'closed' });
  });

  it('failures written at the same moment by many instances are each counted once', async () => {
    const instances = Array.from({ length: 5 }, instance);
    await Promise.all(
      instances.map((i) =>
        i.breaker
          .call(async () => {
            throw new ProviderDown();
          }, classify)
          .catch(() => undefined),
      ),
    );
    expect((await instances[0]?.store.read('meta'))?.state).toBe('open');
  });

  it('20 concurrent callers in half-open let exactly one probe through', async () => {
    const opener = instance();
    for (let i = 0; i < settings.failureThreshold; i += 1) {
      await opener.breaker
        .call(async () => {
          throw new ProviderDown();
        }, classify)
        .catch(() => undefined);
    }
    clock += settings.openMs;
    let probes = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let settled = 0;
    const callers = Array.from({ length: 20 }, instance).map((i) =>
      i.breaker
        .call(async () => {
          probes += 1;
          await gate;
          return 'answered';
        }, classify)
        .finally(() => {
          settled += 1;
        }),
    );
    // The probe holds its answer until every other caller has been refused.
    while (settled < 19) await new Promise((r) => setTimeout(r, 20));
    expect(probes).toBe(1);
    release();
    const results = await Promise.allSettled(callers);
    expect(probes).toBe(1);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused).toHaveLength(19);
    for (const r of refused) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(CircuitOpenError);
    expect((await opener.store.read('meta')).state).toBe('closed');
  });

  it('an operator closes an open circuit for every instance', async () => {
    const a = instance();
    for (let i = 0; i < settings.failureThreshold; i += 1) {
      await a.breaker.call(async () => Promise.reject(new ProviderDown()), classify).catch(() => undefined);
    }
    await expect(forceClose('meta', a.store, () => clock)).resolves.toBe('open');
    await expect(instance().breaker.call(async () => 'ok', classify)).resolves.toBe('ok');
  });
});
