/**
 * `backup restore --file --unsafe-plaintext` refuses every kind of malformed decrypted backup and leaves
 * nothing written, with a sentence naming what is wrong, and writes every DynamoDB type of a good one.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { resetClients } from '../../functions/shared/platform/aws/clients';
import { run } from '../../ops/cli';
import { tableInKeyOrder } from '../support/dynamo';
import { emulatorUrl, freshResources } from '../support/emulator';
import { capture } from '../support/operator';

type Line = Record<string, unknown>;

const manifest = (tables: string[] = ['tenants']): Line => ({
  type: 'manifest',
  format: 'adsengineer-backup',
  version: 1,
  job_id: 'bkp-restore-test',
  created_at: '2026-03-01T00:00:00.000Z',
  tables,
});
const item = (i: number, extra: Line = {}, table = 'tenants'): Line => ({
  type: 'item',
  table,
  item: { pk: { S: `TENANT#t${i}` }, sk: { S: 'META' }, ...extra },
});
const tableEnd = (count: number, table = 'tenants'): Line => ({ type: 'table_end', table, count });
const end = (counts: Record<string, number>): Line => ({
  type: 'end',
  item_counts: counts,
  total_items: Object.values(counts).reduce((a, b) => a + b, 0),
});
/** A well-formed backup of the tenants table with `n` items; `at` replaces item `at`. */
const tenants = (n: number, replace?: { at: number; extra: Line }): Line[] => [
  manifest(),
  ...Array.from({ length: n }, (_, i) => item(i, replace?.at === i ? replace.extra : {})),
  tableEnd(n),
  end({ tenants: n }),
];

describe('backup restore --unsafe-plaintext refuses a malformed backup and leaves nothing written', () => {
  let env: Record<string, string>;
  let dir: string;
  let dynamo: DynamoDBClient;
  let file = 0;

  const write = (lines: Array<Line | string>) => {
    const out = path.join(dir, `backup-${file++}.jsonl`);
    writeFileSync(out, `${lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')}\n`);
    return out;
  };
  const restore = async (lines: Array<Line | string>) => {
    const io = capture();
    const code = await run(['backup', 'restore', '--file', write(lines), '--unsafe-plaintext'], io);
    return { code, last: io.stderr.at(-1), io };
  };

  beforeAll(async () => {
    env = await freshResources();
    resetClients();
    dynamo = new DynamoDBClient({ endpoint: emulatorUrl(), region: 'us-east-1' });
    dir = mkdtempSync(path.join(tmpdir(), 'adsengineer-restore-'));
  });
  afterAll(() => dynamo.destroy());
  afterEach(async () => {
    // Every refusal leaves the tables as they were: empty.
    expect(await tableInKeyOrder(dynamo, env.TENANTS_TABLE as string)).toEqual([]);
  });

  it.each<[string, Array<Line | string>, string]>([
    ['a line that is not JSON', [manifest(), '{"type":"item",'], 'line is not JSON'],
    [
      'a line of an unknown kind',
      [manifest(), { type: 'comment', text: 'x' }],
      'line is not a backup line of a known kind',
    ],
    [
      'a table the service does not have',
      [manifest(['sessions'])],
      'line is not a backup line of a known kind',
    ],
    ['no manifest first', [item(0)], 'backup is not well formed: it does not start with a manifest'],
    ['a second manifest', [manifest(), manifest()], 'backup is not well formed: a second manifest'],
    [
      'items of a table the manifest does not name',
      [manifest(), item(0, {}, 'leads')],
      'backup is not well formed: items of table leads where none are expected',
    ],
    [
      'items of two tables mixed',
      [manifest(['tenants', 'leads']), item(0), item(1, {}, 'leads')],
      'backup is not well formed: items of leads inside table tenants',
    ],
    [
      'a table ended while another is open',
      [manifest(['tenants', 'leads']), item(0), tableEnd(0, 'leads')],
      'backup is not well formed: table tenants not closed',
    ],
    [
      'a table ended twice',
      [manifest(), item(0), tableEnd(1), tableEnd(0)],
      'backup is not well formed: unexpected end of table tenants',
    ],
    [
      'a count that does not match the items',
      [manifest(), item(0), item(1), tableEnd(3)],
      'backup is not well formed: table tenants says 3 items, holds 2',
    ],
    [
      'an end line while a table is open',
      [manifest(), item(0), end({ tenants: 1 })],
      'backup is not well formed: table tenants not closed',
    ],
    [
      'a table of the manifest missing',
      [manifest(['tenants', 'leads']), item(0), tableEnd(1), end({ tenants: 1 })],
      'backup is not well formed: tables leads missing',
    ],
    [
      'an end line whose counts disagree',
      [manifest(), item(0), tableEnd(1), { ...end({ tenants: 1 }), total_items: 2 }],
      'backup is not well formed: the end line does not agree with the items',
    ],
    [
      'lines after the end line',
      [...tenants(1), item(5)],
      'backup is not well formed: lines after the end line',
    ],
  ])('refuses %s', async (_, lines, message) => {
    const { code, last } = await restore(lines);
    expect(code).toBe(1);
    expect(last).toBe(`Failed: ${message}`);
  });

  // Values are checked with the structure: one bad value after a full batch of 25 items must not
  // leave the first batch restored.
  it.each<[string, Line, string]>([
    ['a value of two types', { name: { S: 'a', N: '1' } }, 'attribute value is not a single-key object'],
    ['an attribute of an unknown type', { name: { X: 'a' } }, 'attribute type "X" is unknown'],
    ['a number that is no string', { n: { N: 5 } }, 'N value is not a string'],
    ['binary that is not base64', { b: { B: 'not base64!' } }, 'binary value is not base64'],
    ['a set that is no list of strings', { ss: { SS: [1, 2] } }, 'set is not a list of strings'],
    ['a binary set with a value that is not base64', { bs: { BS: ['%%'] } }, 'binary value is not base64'],
    ['a map that is no object', { m: { M: ['a'] } }, 'item is not an object'],
    ['a list that is none', { l: { L: 'a' } }, 'L value is not a list'],
    ['a NULL that is false', { z: { NULL: false } }, 'NULL value is not true'],
    ['a boolean given as text', { t: { BOOL: 'true' } }, 'BOOL value is not a boolean'],
  ])('refuses %s in item 27, writing none of the 26 before it', async (_, extra, message) => {
    const { code, last } = await restore(tenants(30, { at: 26, extra }));
    expect(code).toBe(1);
    expect(last).toBe(`Failed: ${message}`);
  });

  it('restores every DynamoDB type of a good backup, in batches, and then refuses a second restore', async () => {
    const all = {
      s: { S: 'text' },
      n: { N: '12345678901234567890.5' },
      b: { B: Buffer.from([0, 1, 2, 255]).toString('base64') },
      ss: { SS: ['a', 'b'] },
      ns: { NS: ['1', '2.5'] },
      bs: { BS: [Buffer.from('x').toString('base64')] },
      m: { M: { inner: { L: [{ S: 'deep' }, { NULL: true }, { BOOL: false }] } } },
    };
    const io = capture();
    expect(
      await run(
        ['backup', 'restore', '--file', write(tenants(26, { at: 25, extra: all })), '--unsafe-plaintext'],
        io,
      ),
    ).toBe(0);
    expect(io.stdout).toEqual(['Restored 26 items of backup bkp-restore-test.']);
    expect(io.stderr).toContain('      tenants: 26 items');
    const items = await tableInKeyOrder(dynamo, env.TENANTS_TABLE as string);
    expect(items).toHaveLength(26);
    const full = items.find((i) => i.pk?.S === 'TENANT#t25');
    expect(full?.n).toEqual({ N: '12345678901234567890.5' });
    expect(Buffer.from(full?.b?.B as Uint8Array)).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(full?.m).toEqual({ M: { inner: { L: [{ S: 'deep' }, { NULL: true }, { BOOL: false }] } } });
    const again = capture();
    expect(await run(['backup', 'restore', '--file', write(tenants(1)), '--unsafe-plaintext'], again)).toBe(
      3,
    );
    expect(again.stderr.at(-1)).toMatch(/^Refused: not empty: tenants \(/);
    // Leave the tables empty for the check after each test.
    await freshResources();
    resetClients();
  });
});
