import {
  DeleteItemCommand,
  type DynamoDBClient,
  type GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { AwsCallRecorder, type ItemImage, type RecordedCall } from '../../bench/support/aws-calls';
import {
  attributeValueSize,
  canonical,
  type Item,
  indexEntry,
  itemSize,
  storedBytes,
  tableOf,
  totalUnits,
  unitsOf,
  writeTargets,
  writeUnits,
} from '../../bench/support/dynamo-units';
import type { TableDefinition } from '../../contract/resources';
import { dynamoClient } from '../../functions/shared/platform/aws/clients';

/**
 * Write and read units by the Amazon DynamoDB Developer Guide's rules, with expectations computed
 * by hand from the item sizes (attribute name bytes plus value bytes; 1 KB = 1,024 bytes):
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html (write capacity units)
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithItems.html#WorkingWithItems.ConditionalUpdate
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html
 */

/** A table with an index projecting every attribute and one projecting keys only. */
const TABLE: TableDefinition = {
  id: 'leads',
  envVar: 'LEADS_TABLE',
  partitionKey: 'pk',
  sortKey: 'sk',
  indexes: [
    { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
    { name: 'gsi2', partitionKey: 'gsi2pk', projection: 'KEYS_ONLY' },
  ],
  accessPatterns: [],
};
const PLAIN: TableDefinition = {
  id: 'dedup',
  envVar: 'DEDUP_TABLE',
  partitionKey: 'pk',
  indexes: [],
  accessPatterns: [],
};
const TABLES = [TABLE, PLAIN];
const NAME = 'stack-leads';

const S = (value: string) => ({ S: value });
const KEY: Item = { pk: S('T#1'), sk: S('L#1') }; // 2 + 3 + 2 + 3 = 10 bytes
/** An item of the table's key plus a filler attribute `v` making it exactly `bytes` long. */
function item(bytes: number, extra: Item = {}): Item {
  const base = itemSize({ ...KEY, ...extra }) + 1; // `v` is 1 byte of name
  return { ...KEY, ...extra, v: S('x'.repeat(bytes - base)) };
}

function call(
  operation: string,
  input: Record<string, unknown>,
  images: ItemImage[] = [],
  extra: Partial<RecordedCall> = {},
): RecordedCall {
  return {
    service: 'dynamodb',
    operation,
    start: 0,
    end: 1,
    body: JSON.stringify(input),
    output: {},
    images,
    ...extra,
  };
}
const image = (before?: Item, after?: Item, key: Item = KEY, table = NAME): ItemImage => ({
  table,
  key,
  ...(before ? { before } : {}),
  ...(after ? { after } : {}),
});
const writes = (c: RecordedCall) => unitsOf(c, TABLES).write;

describe('sizes', () => {
  it('builds test items of the size asked', () => {
    expect(itemSize(item(1000))).toBe(1000);
    expect(itemSize(item(2100, { gsi1pk: S('A'), gsi1sk: S('1') }))).toBe(2100);
  });

  it('counts every attribute type by the published rules', () => {
    expect(attributeValueSize({ NULL: true })).toBe(1);
    expect(attributeValueSize({ N: '-0.00120' })).toBe(2); // significant digits "12": 1 + 1
    expect(attributeValueSize({ N: '1.5e10' })).toBe(2);
    expect(attributeValueSize({ B: Buffer.from('abcd').toString('base64') })).toBe(4);
    expect(attributeValueSize({ B: new Uint8Array(5) })).toBe(5);
    expect(attributeValueSize({ SS: ['ab', 'c'] })).toBe(3);
    expect(attributeValueSize({ NS: ['1', '123'] })).toBe(2 + 3);
    expect(attributeValueSize({ BS: [new Uint8Array(2), Buffer.from('xyz').toString('base64')] })).toBe(5);
    expect(itemSize(undefined)).toBe(0);
  });

  it('sizes values as the document client hands them over', () => {
    expect(itemSize({ a: null, b: 12, c: new Uint8Array(3), d: new Set(['x', 'yz']) } as never)).toBe(
      1 + 1 + (1 + 2) + (1 + 3) + (1 + 3),
    );
    expect(itemSize({ l: ['a', true], m: { k: 'v' } } as never)).toBe(1 + (3 + 2 + 2) + 1 + (3 + 1 + 1 + 1));
  });

  it('rounds writes to started kilobytes, at least one unit', () => {
    expect(writeUnits(0)).toBe(1);
    expect(writeUnits(1024)).toBe(1);
    expect(writeUnits(1025)).toBe(2);
  });
});

describe('index entries', () => {
  const full = item(3000, { gsi1pk: S('A'), gsi1sk: S('1'), gsi2pk: S('B') });

  it('are the whole item for ALL, the table and index keys for KEYS_ONLY', () => {
    const [all, keys] = TABLE.indexes as [TableDefinition['indexes'][0], TableDefinition['indexes'][0]];
    expect(indexEntry(TABLE, all, full)).toBe(full);
    expect(indexEntry(TABLE, keys, full)).toEqual({ pk: S('T#1'), sk: S('L#1'), gsi2pk: S('B') });
    // pk 5 + sk 5 + gsi2pk (6 + 1): 17 bytes, whatever the item's size. No 100-byte overhead: that
    // figure is the index's storage, not its writes.
    expect(itemSize(indexEntry(TABLE, keys, full))).toBe(17);
  });

  it('exist only when every index key attribute is there', () => {
    const [all] = TABLE.indexes as [TableDefinition['indexes'][0]];
    expect(indexEntry(TABLE, all, item(100, { gsi1pk: S('A') }))).toBeUndefined();
    expect(indexEntry(TABLE, all, undefined)).toBeUndefined();
  });
});

describe('storage', () => {
  it('bills each item and each index entry with 100 bytes of overhead', () => {
    const full = item(3000, { gsi1pk: S('A'), gsi1sk: S('1'), gsi2pk: S('B') });
    // The item, its ALL entry (the item again), its KEYS_ONLY entry (17 bytes), 100 each.
    expect(storedBytes(TABLE, [full])).toBe(3000 + 100 + 3000 + 100 + 17 + 100);
    // Outside both indexes: the item only.
    expect(storedBytes(TABLE, [item(500), item(700)])).toBe(500 + 100 + 700 + 100);
    expect(storedBytes(TABLE, [])).toBe(0);
  });
});

describe('PutItem', () => {
  it('writes a new item by its size, and puts it in each index it enters', () => {
    const plain = item(1000);
    expect(writes(call('PutItem', { TableName: NAME, Item: plain }, [image(undefined, plain)]))).toBe(1);
    // 2,100 bytes: table 3, gsi1 (ALL) put 3, gsi2 (KEYS_ONLY, 17-byte entry) put 1.
    const indexed = item(2100, { gsi1pk: S('A'), gsi1sk: S('1'), gsi2pk: S('B') });
    expect(writes(call('PutItem', { TableName: NAME, Item: indexed }, [image(undefined, indexed)]))).toBe(7);
  });

  it('replacing an item counts the larger of the two, and an identical one writes no index', () => {
    const before = item(3000, { gsi1pk: S('A'), gsi1sk: S('1') });
    const after = item(500, { gsi1pk: S('A'), gsi1sk: S('1') });
    // Table max(3,000, 500) → 3; gsi1 same keys, projected attributes changed: max(3,000, 500) → 3.
    expect(writes(call('PutItem', { TableName: NAME, Item: after }, [image(before, after)]))).toBe(6);
    expect(writes(call('PutItem', { TableName: NAME, Item: before }, [image(before, before)]))).toBe(3);
  });
});

describe('UpdateItem', () => {
  const update = (before?: Item, after?: Item) =>
    call('UpdateItem', { TableName: NAME, Key: KEY }, [image(before, after)]);

  it('counts the larger of the item before and after', () => {
    expect(writes(update(item(500), item(2100)))).toBe(3);
    expect(writes(update(item(2100), item(500)))).toBe(3);
    expect(writes(update(undefined, item(20)))).toBe(1);
  });

  it('an item entering an index: one put of the new entry', () => {
    // Table max(900, 1,100) → 2; gsi1 put of 1,100 → 2.
    expect(writes(update(item(900), item(1100, { gsi1pk: S('A'), gsi1sk: S('1') })))).toBe(4);
  });

  it('an item leaving an index: one delete of the old entry', () => {
    // Table max(2,100, 900) → 3; gsi1 delete of 2,100 → 3.
    expect(writes(update(item(2100, { gsi1pk: S('A'), gsi1sk: S('1') }), item(900)))).toBe(6);
  });

  it('an index key value changed: delete the old entry and put the new one', () => {
    const before = item(2100, { gsi1pk: S('A'), gsi1sk: S('1') });
    const after = item(1000, { gsi1pk: S('B'), gsi1sk: S('1') });
    // Table 3; gsi1 delete 2,100 → 3 plus put 1,000 → 1.
    expect(writes(update(before, after))).toBe(3 + 3 + 1);
    // A key change of the keys-only index: delete of the 17-byte entry → 1, put → 1.
    const k1 = item(500, { gsi2pk: S('B') });
    const k2 = item(500, { gsi2pk: S('C') });
    expect(writes(update(k1, k2))).toBe(1 + 2);
  });

  it('a projected attribute changed: one write; a keys-only index is not written', () => {
    const before = item(1500, { gsi1pk: S('A'), gsi1sk: S('1'), gsi2pk: S('B') });
    const after = item(1600, { gsi1pk: S('A'), gsi1sk: S('1'), gsi2pk: S('B') });
    // Table max → 2; gsi1 one write max(1,500, 1,600) → 2; gsi2 keys unchanged → 0.
    expect(writes(update(before, after))).toBe(4);
  });

  it('an item in no index before or after writes only the table', () => {
    expect(writes(update(item(100), item(200)))).toBe(1);
  });
});

describe('DeleteItem', () => {
  it('counts the deleted item and a delete of each of its index entries', () => {
    const before = item(2500, { gsi1pk: S('A'), gsi1sk: S('1'), gsi2pk: S('B') });
    // Table 3; gsi1 delete 2,500 → 3; gsi2 delete of the 17-byte entry → 1.
    expect(writes(call('DeleteItem', { TableName: NAME, Key: KEY }, [image(before, undefined)]))).toBe(7);
  });

  it('deleting an item that is not there still costs one unit', () => {
    expect(writes(call('DeleteItem', { TableName: NAME, Key: KEY }, [image()]))).toBe(1);
  });
});

describe('failed conditional writes', () => {
  const failed = { failed: 'ConditionalCheckFailedException' };

  it('a put counts the larger of the existing and the attempted item, and writes no index', () => {
    const attempted = item(2100, { gsi1pk: S('A'), gsi1sk: S('1') });
    expect(
      writes(call('PutItem', { TableName: NAME, Item: attempted }, [image(item(300), item(300))], failed)),
    ).toBe(3);
    expect(
      writes(call('PutItem', { TableName: NAME, Item: item(100) }, [image(item(3000), item(3000))], failed)),
    ).toBe(3);
    expect(writes(call('PutItem', { TableName: NAME, Item: item(100) }, [image()], failed))).toBe(1);
  });

  it('an update or delete counts the existing item, one unit when there is none', () => {
    const existing = item(2100, { gsi1pk: S('A'), gsi1sk: S('1') });
    expect(
      writes(call('UpdateItem', { TableName: NAME, Key: KEY }, [image(existing, existing)], failed)),
    ).toBe(3);
    expect(writes(call('DeleteItem', { TableName: NAME, Key: KEY }, [image()], failed))).toBe(1);
  });

  it('other failures consume nothing', () => {
    expect(
      writes(
        call('PutItem', { TableName: NAME, Item: item(100) }, [image()], { failed: 'ValidationException' }),
      ),
    ).toBe(0);
  });
});

describe('TransactWriteItems', () => {
  const newItem = item(1500, { gsi1pk: S('A'), gsi1sk: S('1') });
  const otherKey: Item = { pk: S('T#1'), sk: S('L#2') };
  const checked: Item = { ...otherKey, v: S('x'.repeat(90)) }; // 10 + 91 = 101 bytes
  const dedupKey: Item = { pk: S('WEBHOOK#1') };
  const input = {
    TransactItems: [
      { Put: { TableName: NAME, Item: newItem } },
      { ConditionCheck: { TableName: NAME, Key: otherKey } },
      { Update: { TableName: 'stack-dedup', Key: dedupKey } },
    ],
  };

  it('doubles every item written in the table, and not its index writes', () => {
    const images = [
      image(undefined, newItem),
      image(checked, checked, otherKey),
      image(undefined, { ...dedupKey, n: { N: '1' } }, dedupKey, 'stack-dedup'),
    ];
    // Put: table 2 × 2 = 4, gsi1 put of 1,500 once → 2. ConditionCheck: 2 × 1. Update: 2 × 1.
    expect(writes(call('TransactWriteItems', input, images))).toBe(4 + 2 + 2 + 2);
  });

  it('a cancelled transaction counts each item it names as a transactional write, no index', () => {
    const images = [
      image(),
      image(checked, checked, otherKey),
      image(undefined, undefined, dedupKey, 'stack-dedup'),
    ];
    const cancelled = call('TransactWriteItems', input, images, { failed: 'TransactionCanceledException' });
    // Put attempted 1,500 → 2 × 2; ConditionCheck existing 101 → 2 × 1; Update nothing → 2 × 1.
    expect(writes(cancelled)).toBe(4 + 2 + 2);
  });
});

describe('BatchWriteItem', () => {
  it('counts each put and delete processed, not the ones handed back unprocessed', () => {
    const first: Item = { pk: S('A'), v: S('x'.repeat(1500)) };
    const second: Item = { pk: S('B'), v: S('y') };
    const gone: Item = { pk: S('C'), v: S('x'.repeat(3000)) };
    const c = call(
      'BatchWriteItem',
      {
        RequestItems: {
          'stack-dedup': [
            { PutRequest: { Item: first } },
            { PutRequest: { Item: second } },
            { DeleteRequest: { Key: { pk: S('C') } } },
          ],
        },
      },
      [
        image(undefined, first, { pk: S('A') }, 'stack-dedup'),
        image(undefined, undefined, { pk: S('B') }, 'stack-dedup'),
        image(gone, undefined, { pk: S('C') }, 'stack-dedup'),
      ],
      { output: { UnprocessedItems: { 'stack-dedup': [{ PutRequest: { Item: second } }] } } },
    );
    // first (1,504 bytes) 2, second skipped, delete of 3,004 bytes → 3.
    expect(writes(c)).toBe(2 + 3);
  });
});

describe('item images', () => {
  it('are required for a write', () => {
    expect(() => writes(call('PutItem', { TableName: NAME, Item: item(100) }, []))).toThrow(
      'no item images recorded',
    );
  });

  it('are found from the items and keys a write names', () => {
    expect(writeTargets('PutItem', JSON.stringify({ TableName: NAME, Item: item(100) }), TABLES)).toEqual([
      { kind: 'Put', table: NAME, key: KEY, item: item(100) },
    ]);
    expect(writeTargets('DeleteItem', JSON.stringify({ TableName: NAME, Key: KEY }), TABLES)).toEqual([
      { kind: 'Delete', table: NAME, key: KEY },
    ]);
    // A table outside the definitions: a put's key cannot be known.
    expect(writeTargets('PutItem', JSON.stringify({ TableName: 'other', Item: item(100) }), TABLES)).toEqual([
      { kind: 'Put', table: 'other', item: item(100) },
    ]);
    expect(writeTargets('GetItem', JSON.stringify({ TableName: NAME, Key: KEY }), TABLES)).toEqual([]);
    expect(writeTargets('BatchWriteItem', undefined, TABLES)).toEqual([]);
  });

  it('match keys whatever their attribute order or binary form', () => {
    expect(canonical({ sk: S('1'), pk: S('2') })).toBe(canonical({ pk: S('2'), sk: S('1') }));
    expect(canonical({ SS: ['b', 'a'] })).toBe(canonical({ SS: ['a', 'b'] }));
    expect(canonical({ L: [S('b'), S('a')] })).not.toBe(canonical({ L: [S('a'), S('b')] }));
    expect(canonical({ B: new Uint8Array([1, 2]) })).toBe(
      canonical({ B: Buffer.from([1, 2]).toString('base64') }),
    );
    expect(canonical(new Set([1]))).toBe('[1]');
  });

  it('name tables by their physical names', () => {
    expect(tableOf('adsengineer-dev-leads', TABLES)).toBe(TABLE);
    expect(tableOf('dedup', TABLES)).toBe(PLAIN);
    expect(tableOf('stack-unknown', TABLES)).toBeUndefined();
  });
});

describe('reads', () => {
  const read = (operation: string, input: Record<string, unknown>, output: unknown, failed?: string) =>
    unitsOf(call(operation, input, [], { output, ...(failed ? { failed } : {}) }), TABLES).read;

  it('GetItem: 4 KB started, half when eventually consistent, the minimum for a key not found', () => {
    expect(read('GetItem', { ConsistentRead: true }, { Item: item(5000) })).toBe(2);
    expect(read('GetItem', {}, { Item: item(5000) })).toBe(1);
    expect(read('GetItem', {}, {})).toBe(0.5);
    expect(read('GetItem', { ConsistentRead: true }, undefined, 'ResourceNotFoundException')).toBe(1);
    expect(read('Query', {}, undefined, 'ValidationException')).toBe(0);
  });

  it('Query sums the items before rounding; BatchGetItem rounds each; transactions double', () => {
    expect(read('Query', {}, { Items: [item(3000), item(3000)] })).toBe(1); // 6,000 → 2 × 0.5
    expect(read('Scan', { ConsistentRead: true }, {})).toBe(1);
    expect(
      read(
        'BatchGetItem',
        { RequestItems: { t: { Keys: [1, 2, 3], ConsistentRead: true }, u: { Keys: [1] } } },
        { Responses: { t: [item(3000), item(5000)] } },
      ),
    ).toBe(1 + 2 + 1 + 0.5);
    expect(read('TransactGetItems', {}, { Responses: [{ Item: item(5000) }, {}] })).toBe(4 + 2);
    expect(read('DescribeTable', {}, {})).toBe(0);
  });
});

describe('totals', () => {
  it('add up DynamoDB calls by operation and leave other services out', () => {
    const put = call('PutItem', { TableName: NAME, Item: item(2100) }, [image(undefined, item(2100))]);
    const get = call('GetItem', { ConsistentRead: true }, [], { output: { Item: item(100) } });
    const sqs: RecordedCall = { service: 'sqs', operation: 'SendMessage', start: 0, end: 1 };
    const totals = totalUnits([put, put, get, sqs], TABLES);
    expect(totals).toEqual({
      readUnits: 1,
      writeUnits: 6,
      calls: 3,
      byOperation: {
        PutItem: { calls: 2, readUnits: 0, writeUnits: 6 },
        GetItem: { calls: 1, readUnits: 1, writeUnits: 0 },
      },
    });
  });
});

describe('the recorder with item images', () => {
  /** The emulator stood in for: items by key, written by the calls the stub below answers. */
  const stored = new Map<string, Item>();
  const reads: string[] = [];
  const reader = {
    send: async (command: GetItemCommand) => {
      reads.push(String(command.input.TableName));
      expect(command.input.ConsistentRead).toBe(true);
      return { Item: stored.get(canonical(command.input.Key)) };
    },
  } as unknown as DynamoDBClient;
  let conditionFails = false;

  beforeAll(() => {
    // Answers every call of the shared client in place of DynamoDB (inside the recorder).
    dynamoClient().middlewareStack.add(
      (_next, context) => async (args) => {
        const body = (args.request as { body: string | Uint8Array }).body;
        const input = JSON.parse(typeof body === 'string' ? body : new TextDecoder().decode(body));
        if (conditionFails) {
          throw Object.assign(new Error('The conditional request failed'), {
            name: 'ConditionalCheckFailedException',
          });
        }
        if (context.commandName === 'PutItemCommand')
          stored.set(canonical({ pk: input.Item.pk }), input.Item);
        if (context.commandName === 'UpdateItemCommand') {
          const key = canonical(input.Key);
          stored.set(key, { ...(stored.get(key) ?? input.Key), n: { N: '2' } });
        }
        if (context.commandName === 'DeleteItemCommand') stored.delete(canonical(input.Key));
        return { output: { $metadata: {} }, response: {} } as never;
      },
      { step: 'finalizeRequest', name: 'answerInPlaceOfDynamoDb', priority: 'low' },
    );
  });

  it('reads every written item before and after the call through its own client', async () => {
    const recorder = new AwsCallRecorder().install().recordImages(reader);
    const key = { pk: { S: 'WEBHOOK#1' } };
    await dynamoClient().send(
      new PutItemCommand({ TableName: 'stack-dedup', Item: { ...key, n: { N: '1' } } }),
    );
    await dynamoClient().send(
      new UpdateItemCommand({ TableName: 'stack-dedup', Key: key, UpdateExpression: 'SET n = :n' }),
    );
    await dynamoClient().send(new DeleteItemCommand({ TableName: 'stack-dedup', Key: key }));
    const [put, update, remove] = recorder.take();
    expect(put?.images).toEqual([{ table: 'stack-dedup', key, after: { ...key, n: { N: '1' } } }]);
    expect(update?.images).toEqual([
      { table: 'stack-dedup', key, before: { ...key, n: { N: '1' } }, after: { ...key, n: { N: '2' } } },
    ]);
    expect(remove?.images).toEqual([{ table: 'stack-dedup', key, before: { ...key, n: { N: '2' } } }]);
    expect(reads).toHaveLength(6);
    // The reads are not calls of the recorded client.
    expect([put, update, remove].map((c) => c?.operation)).toEqual(['PutItem', 'UpdateItem', 'DeleteItem']);
    // Units by the images: a new 16-byte item, an update, a delete: 1 each.
    expect(totalUnits([put, update, remove] as RecordedCall[]).writeUnits).toBe(3);
  });

  it('keeps the images of a failed write, and reads nothing once turned off', async () => {
    const recorder = new AwsCallRecorder().install().recordImages(reader);
    reads.length = 0;
    const key = { pk: { S: 'WEBHOOK#2' } };
    stored.set(canonical(key), { ...key, n: { N: '5' } });
    conditionFails = true;
    await expect(
      dynamoClient().send(new PutItemCommand({ TableName: 'stack-dedup', Item: { ...key, n: { N: '6' } } })),
    ).rejects.toThrow('The conditional request failed');
    conditionFails = false;
    const [failed] = recorder.take();
    expect(failed?.failed).toBe('ConditionalCheckFailedException');
    expect(failed?.images).toEqual([
      { table: 'stack-dedup', key, before: { ...key, n: { N: '5' } }, after: { ...key, n: { N: '5' } } },
    ]);
    expect(reads).toHaveLength(2);

    recorder.recordImages(undefined);
    await dynamoClient().send(new DeleteItemCommand({ TableName: 'stack-dedup', Key: key }));
    expect(recorder.take()[0]?.images).toBeUndefined();
    expect(reads).toHaveLength(2);
  });
});
