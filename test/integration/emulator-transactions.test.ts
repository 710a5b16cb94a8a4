/**
 * The local emulator's transactions (local/moto_server.py snapshots only the items a
 * transaction touches): a cancelled transaction leaves every item as it was, on tables with and
 * without a sort key; a successful one writes all of its operations.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../functions/shared/platform/aws/clients';
import { tableName } from '../../functions/shared/platform/config/resources';
import { freshResources } from '../support/emulator';

const get = async (table: 'leads' | 'dedup', key: Record<string, string>) =>
  (
    await documentClient().send(
      new GetCommand({ TableName: tableName(table), Key: key, ConsistentRead: true }),
    )
  ).Item;

describe('emulator transactions', () => {
  beforeAll(async () => {
    await freshResources();
    const client = documentClient();
    await client.send(new PutCommand({ TableName: tableName('leads'), Item: { pk: 'T', sk: 'B', n: 1 } }));
    await client.send(new PutCommand({ TableName: tableName('leads'), Item: { pk: 'T', sk: 'C', n: 1 } }));
    await client.send(new PutCommand({ TableName: tableName('dedup'), Item: { pk: 'D1', n: 1 } }));
  });

  it('a cancelled transaction leaves every item it touched as it was', async () => {
    const leads = tableName('leads');
    const dedup = tableName('dedup');
    const cancelled = documentClient().send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: leads, Item: { pk: 'T', sk: 'A', n: 1 } } },
          {
            Update: {
              TableName: leads,
              Key: { pk: 'T', sk: 'B' },
              UpdateExpression: 'SET n = :two, added = :yes',
              ExpressionAttributeValues: { ':two': 2, ':yes': true },
            },
          },
          { Delete: { TableName: dedup, Key: { pk: 'D1' } } },
          { Put: { TableName: dedup, Item: { pk: 'D2', n: 1 } } },
          // Fails: C exists.
          {
            Put: {
              TableName: leads,
              Item: { pk: 'T', sk: 'C', n: 9 },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
        ],
      }),
    );
    await expect(cancelled).rejects.toBeInstanceOf(TransactionCanceledException);
    expect(await get('leads', { pk: 'T', sk: 'A' })).toBeUndefined();
    expect(await get('leads', { pk: 'T', sk: 'B' })).toEqual({ pk: 'T', sk: 'B', n: 1 });
    expect(await get('leads', { pk: 'T', sk: 'C' })).toEqual({ pk: 'T', sk: 'C', n: 1 });
    expect(await get('dedup', { pk: 'D1' })).toEqual({ pk: 'D1', n: 1 });
    expect(await get('dedup', { pk: 'D2' })).toBeUndefined();
  });

  it('a transaction that succeeds writes all of its operations', async () => {
    await documentClient().send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: tableName('leads'), Item: { pk: 'T', sk: 'A', n: 1 } } },
          {
            Update: {
              TableName: tableName('leads'),
              Key: { pk: 'T', sk: 'B' },
              UpdateExpression: 'SET n = :two',
              ExpressionAttributeValues: { ':two': 2 },
            },
          },
          { Delete: { TableName: tableName('dedup'), Key: { pk: 'D1' } } },
        ],
      }),
    );
    expect(await get('leads', { pk: 'T', sk: 'A' })).toEqual({ pk: 'T', sk: 'A', n: 1 });
    expect(await get('leads', { pk: 'T', sk: 'B' })).toEqual({ pk: 'T', sk: 'B', n: 2 });
    expect(await get('dedup', { pk: 'D1' })).toBeUndefined();
  });
});
