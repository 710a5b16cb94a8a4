import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoTenantStore } from '../../functions/shared/features/tenancy/dynamo';
import { ConsentPolicyStore } from '../../functions/shared/features/tenancy/dynamo-consent-policy';
import { platformScope } from '../../functions/shared/features/tenancy/rules/scope';

/** A client answering each call with the next canned response, recording what was asked. */
function scripted(...responses: Array<Record<string, unknown> | Error>) {
  const calls: Array<{ name: string; input: Record<string, unknown> }> = [];
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      calls.push({ name: command.constructor.name, input: command.input });
      const next = responses.shift();
      if (next instanceof Error) throw next;
      return next ?? {};
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, calls };
}

const admin = { tenantId: 'platform', role: 'admin' as const, subject: 'op', method: 'jwt' as const };

describe('DynamoTenantStore against edge-case answers', () => {
  it('reads a response without items as an empty page with no cursor', async () => {
    const { client } = scripted({}, {});
    const store = new DynamoTenantStore(client, 'tenants');
    expect(await store.listTenants(10)).toEqual({ items: [], next_cursor: null });
    expect(await store.listApiKeys(platformScope(admin, 'ten_a'))).toEqual([]);
  });

  it('treats a key found in the index but gone from the table as unknown', async () => {
    const { client, calls } = scripted({ Items: [{ pk: 'TENANT#t', sk: 'APIKEY#k' }] }, {});
    const store = new DynamoTenantStore(client, 'tenants');
    expect(await store.findApiKeyByHash('abc')).toBeUndefined();
    expect(calls.map((c) => c.name)).toEqual(['QueryCommand', 'GetCommand']);
    expect(calls[1]?.input).toMatchObject({ ConsistentRead: true, Key: { pk: 'TENANT#t', sk: 'APIKEY#k' } });
  });

  it('passes on errors other than a failed condition when revoking', async () => {
    const { client } = scripted(new Error('ProvisionedThroughputExceeded'));
    const store = new DynamoTenantStore(client, 'tenants');
    await expect(store.revokeApiKey(platformScope(admin, 't'), 'k', 'now')).rejects.toThrow('Provisioned');
  });

  it('keeps billing from newer retrievals: an older one is stale, an unknown tenant is said so', async () => {
    const conditionFailed = () =>
      new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
    const billing = {
      subscription_id: 'sub_1',
      status: 'active',
      event_created: 1,
      event_id: 'evt_1',
      synced_at: 1,
      updated_at: 'now',
    };
    const stale = scripted(conditionFailed(), {
      Item: { id: 't', name: 'T', status: 'active', created_at: 'x' },
    });
    expect(await new DynamoTenantStore(stale.client, 'tenants').updateBilling('t', billing)).toBe('stale');
    const unknown = scripted(conditionFailed(), {});
    expect(await new DynamoTenantStore(unknown.client, 'tenants').updateBilling('t', billing)).toBe(
      'unknown_tenant',
    );
    const broken = scripted(new Error('InternalServerError'));
    await expect(new DynamoTenantStore(broken.client, 'tenants').updateBilling('t', billing)).rejects.toThrow(
      'InternalServerError',
    );
  });
});

describe('DynamoTenantStore status changes', () => {
  const change = { at: '2026-11-26T09:00:00.000Z', actor: 'op', ip: '192.0.2.1', request_id: 'r' };
  const meta = { Item: { id: 't', name: 'T', status: 'active', created_at: 'x' } };

  it('writes the status and its history entry in one transaction', async () => {
    const { client, calls } = scripted(meta, {});
    const store = new DynamoTenantStore(client, 'tenants');
    expect(await store.setTenantStatus('t', 'suspended', change)).toMatchObject({
      status: 'suspended',
      status_changed_at: change.at,
    });
    expect(calls.map((c) => c.name)).toEqual(['GetCommand', 'TransactWriteCommand']);
    const items = (
      calls[1] as unknown as {
        input: { TransactItems: Array<Record<string, { Item?: Record<string, unknown> }>> };
      }
    ).input.TransactItems;
    expect(items[1]?.Put?.Item).toMatchObject({ from: 'active', to: 'suspended', actor: 'op' });
  });

  it('answers undefined for a tenant gone before or during the change, and passes on other errors', async () => {
    const gone = scripted({});
    expect(
      await new DynamoTenantStore(gone.client, 'tenants').setTenantStatus('t', 'active', change),
    ).toBeUndefined();
    const cancelled = (code: string) =>
      new TransactionCanceledException({
        message: 'cancelled',
        $metadata: {},
        CancellationReasons: [{ Code: code }, { Code: 'None' }],
      });
    const raced = scripted(meta, cancelled('ConditionalCheckFailed'));
    expect(
      await new DynamoTenantStore(raced.client, 'tenants').setTenantStatus('t', 'active', change),
    ).toBeUndefined();
    const conflict = scripted(meta, cancelled('TransactionConflict'));
    await expect(
      new DynamoTenantStore(conflict.client, 'tenants').setTenantStatus('t', 'active', change),
    ).rejects.toThrow('cancelled');
    const failing = scripted(meta, new Error('ProvisionedThroughputExceeded'));
    await expect(
      new DynamoTenantStore(failing.client, 'tenants').setTenantStatus('t', 'active', change),
    ).rejects.toThrow('Provisioned');
  });

  it('reads an empty history and an unknown key as nothing', async () => {
    const { client } = scripted({}, {});
    const store = new DynamoTenantStore(client, 'tenants');
    expect(await store.statusHistory('t')).toEqual([]);
    expect(await store.getApiKey(platformScope(admin, 't'), 'key_x')).toBeUndefined();
  });
});

describe('ConsentPolicyStore against edge-case answers', () => {
  const scope = platformScope(admin, 'ten_a');

  it('answers explicit, without updated_at, for no item or an unreadable one', async () => {
    const { client, calls } = scripted(
      {},
      { Item: { pk: 'TENANT#ten_a', sk: 'SETTINGS#consent', policy: 'lax' } },
    );
    const store = new ConsentPolicyStore(client, 'tenants');
    expect(await store.get('ten_a')).toEqual({ policy: 'explicit' });
    expect(await store.get('ten_a')).toEqual({ policy: 'explicit' });
    expect(calls[0]).toEqual({
      name: 'GetCommand',
      input: {
        TableName: 'tenants',
        Key: { pk: 'TENANT#ten_a', sk: 'SETTINGS#consent' },
        ConsistentRead: true,
      },
    });
  });

  it('answers the stored policy, with its time when it has one, and saves under the scope tenant', async () => {
    const { client, calls } = scripted(
      { Item: { policy: 'regional' } },
      { Item: { policy: 'regional', updated_at: '2026-12-01T10:00:00.000Z' } },
      {},
    );
    const store = new ConsentPolicyStore(client, 'tenants');
    expect(await store.get('ten_a')).toEqual({ policy: 'regional' });
    expect(await store.get('ten_a')).toEqual({ policy: 'regional', updated_at: '2026-12-01T10:00:00.000Z' });
    expect(await store.save(scope, 'explicit', new Date('2026-12-07T20:00:00Z'))).toEqual({
      policy: 'explicit',
      updated_at: '2026-12-07T20:00:00.000Z',
    });
    expect(calls[2]?.input).toEqual({
      TableName: 'tenants',
      Item: {
        pk: 'TENANT#ten_a',
        sk: 'SETTINGS#consent',
        policy: 'explicit',
        updated_at: '2026-12-07T20:00:00.000Z',
      },
    });
  });
});
