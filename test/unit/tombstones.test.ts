import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  coveringErasure,
  DynamoTombstones,
  TOMBSTONE_SK,
  tombstonePk,
} from '../../functions/shared/features/gdpr/dynamo-tombstones';
import type { TenantScope } from '../../functions/shared/features/tenancy/rules/scope';

const scope = { tenantId: 'ten_a' } as TenantScope;
const client = (send: (command: { input: Record<string, unknown> }) => Promise<unknown>) =>
  ({ send }) as unknown as DynamoDBDocumentClient;

describe('tombstone store', () => {
  it('keys each identity under its tenant and keeps the latest erasure with a conditional put', async () => {
    const inputs: Record<string, unknown>[] = [];
    const store = new DynamoTombstones(
      client(async (command) => {
        inputs.push(command.input);
        return {};
      }),
      'audit',
    );
    expect(await store.record(scope, ['h1', 'h1', 'h2'], '2026-12-07T00:00:00.000Z')).toBe(2);
    expect(inputs[0]).toMatchObject({
      Item: { pk: tombstonePk('ten_a', 'h1'), sk: TOMBSTONE_SK, erased_at: '2026-12-07T00:00:00.000Z' },
      ConditionExpression: 'attribute_not_exists(pk) OR erased_at < :at',
    });
  });

  it('passes on any failure but a later erasure already standing', async () => {
    const failing = new DynamoTombstones(
      client(async () => {
        throw Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' });
      }),
      'audit',
    );
    await expect(failing.record(scope, ['h1'], '2026-12-07T00:00:00.000Z')).rejects.toThrow('throttled');
    const later = new DynamoTombstones(
      client(async () => {
        throw Object.assign(new Error('condition'), { name: 'ConditionalCheckFailedException' });
      }),
      'audit',
    );
    expect(await later.record(scope, ['h1'], '2026-12-07T00:00:00.000Z')).toBe(0);
  });

  it('reads an item without an erasure time as no erasure; covers only data created before the latest', async () => {
    const items: Record<string, unknown> = {
      [tombstonePk('ten_a', 'h1')]: { erased_at: '2026-12-01T00:00:00.000Z' },
      [tombstonePk('ten_a', 'h2')]: { erased_at: 42 },
    };
    const store = new DynamoTombstones(
      client(async (command) => ({ Item: items[(command.input.Key as { pk: string }).pk] })),
      'audit',
    );
    expect(await store.erasedAt(scope, ['h2', 'h3'])).toBeUndefined();
    const guard = {
      tombstones: store,
      hash: (_t: string, value: string) => (value.startsWith('\n') ? 'h3' : 'h1'),
    };
    expect(await coveringErasure(guard, scope, { email: 'a@example.com' }, '2026-11-30T00:00:00.000Z')).toBe(
      '2026-12-01T00:00:00.000Z',
    );
    expect(
      await coveringErasure(guard, scope, { email: 'a@example.com' }, '2026-12-02T00:00:00.000Z'),
    ).toBeUndefined();
  });
});
