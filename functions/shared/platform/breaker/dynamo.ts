import { BatchGetCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoRepository } from '../dynamo/repository';
import type { CircuitStore } from './breaker';
import { type Circuit, type CircuitState, CLOSED, type Provider } from './circuit';

/**
 * Circuits in the system table, one item per provider (`pk=BREAKER#<provider>, sk=STATE`). Every
 * write is a conditional put on the version read, so of several instances writing at once exactly
 * one wins: failures are counted once each and one probe takes the half-open lease.
 */
const SK = 'STATE';
const pkOf = (provider: Provider) => `BREAKER#${provider}`;

const STATES: ReadonlySet<string> = new Set<CircuitState>(['closed', 'open', 'half_open']);

const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);

export function circuitFromItem(item: Record<string, unknown> | undefined): Circuit {
  if (!item || typeof item.state !== 'string' || !STATES.has(item.state)) return CLOSED;
  return {
    state: item.state as CircuitState,
    version: num(item.version) ?? 0,
    failures: Array.isArray(item.failures)
      ? item.failures.filter((f): f is number => typeof f === 'number')
      : [],
    openedAt: num(item.opened_at),
    openUntil: num(item.open_until),
    probeId: typeof item.probe_id === 'string' ? item.probe_id : undefined,
    probeUntil: num(item.probe_until),
    lastSuccessAt: num(item.last_success_at),
    lastFailureAt: num(item.last_failure_at),
    changedAt: num(item.changed_at),
  };
}

function itemOf(provider: Provider, circuit: Circuit): Record<string, unknown> {
  return {
    pk: pkOf(provider),
    sk: SK,
    provider,
    state: circuit.state,
    version: circuit.version,
    failures: [...circuit.failures],
    opened_at: circuit.openedAt,
    open_until: circuit.openUntil,
    probe_id: circuit.probeId,
    probe_until: circuit.probeUntil,
    last_success_at: circuit.lastSuccessAt,
    last_failure_at: circuit.lastFailureAt,
    changed_at: circuit.changedAt,
  };
}

export class DynamoCircuitStore extends DynamoRepository implements CircuitStore {
  constructor(client?: DynamoDBDocumentClient, table?: string) {
    super('system', client, table);
  }

  async read(provider: Provider): Promise<Circuit> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.table, Key: { pk: pkOf(provider), sk: SK }, ConsistentRead: true }),
    );
    return circuitFromItem(out.Item);
  }

  /** Several circuits in one round trip (health). */
  async readMany(providers: readonly Provider[]): Promise<Map<Provider, Circuit>> {
    const out = await this.client.send(
      new BatchGetCommand({
        RequestItems: {
          [this.table]: { Keys: providers.map((p) => ({ pk: pkOf(p), sk: SK })), ConsistentRead: true },
        },
      }),
    );
    const items = out.Responses?.[this.table] ?? [];
    const circuits = new Map<Provider, Circuit>();
    for (const provider of providers) {
      circuits.set(provider, circuitFromItem(items.find((item) => item.pk === pkOf(provider))));
    }
    return circuits;
  }

  async replace(provider: Provider, next: Circuit, expectedVersion: number): Promise<boolean> {
    return this.conditionally(
      new PutCommand({
        TableName: this.table,
        Item: itemOf(provider, next),
        ...(expectedVersion === 0
          ? {
              ConditionExpression: 'attribute_not_exists(pk) OR version = :zero',
              ExpressionAttributeValues: { ':zero': 0 },
            }
          : {
              ConditionExpression: 'version = :expected',
              ExpressionAttributeValues: { ':expected': expectedVersion },
            }),
      }),
    );
  }
}
