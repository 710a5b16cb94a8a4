import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { backupEncryptionRequired, backupKeyId } from '../../functions/shared/features/backup/config';
import {
  objectKeyFor,
  parseBackupMessage,
  scheduledJobId,
  serializeBackupMessage,
} from '../../functions/shared/features/backup/model';
import {
  BackupChecker,
  BackupFormatError,
  type BackupLine,
  encodeLine,
  fromJsonItem,
  fromJsonValue,
  parseLine,
  toJsonItem,
  toJsonValue,
} from '../../functions/shared/features/backup/rules/format';
import { errorResult } from '../../functions/shared/platform/http/handler';
import { ID_PATTERN } from '../../functions/shared/platform/ids';
import { InvalidMessageError } from '../../functions/shared/platform/queues/message';

describe('DynamoDB JSON items', () => {
  const item: Record<string, AttributeValue> = {
    pk: { S: 'TENANT#ten_1' },
    n: { N: '12345678901234567890.123456789' },
    b: { B: new Uint8Array([0, 1, 2, 255]) },
    ss: { SS: ['a', 'b'] },
    ns: { NS: ['1', '2.5'] },
    bs: { BS: [new Uint8Array([1]), new Uint8Array([2, 3])] },
    m: { M: { inner: { L: [{ S: 'x' }, { NULL: true }, { BOOL: false }, { M: {} }] } } },
    t: { BOOL: true },
    z: { NULL: true },
  };

  test('every attribute type survives JSON and back, numbers to the last digit', () => {
    const json = JSON.parse(JSON.stringify(toJsonItem(item)));
    expect(json.b).toEqual({ B: 'AAEC/w==' });
    expect(json.n).toEqual({ N: '12345678901234567890.123456789' });
    expect(fromJsonItem(json)).toEqual(item);
  });

  test('a value of no known type is refused both ways', () => {
    expect(() => toJsonValue({} as AttributeValue)).toThrow(BackupFormatError);
    for (const bad of [
      null,
      [],
      { S: 'a', N: '1' },
      { X: 'a' },
      { S: 1 },
      { N: true },
      { B: '***' },
      { B: 5 },
      { SS: 'a' },
      { NS: [1] },
      { BS: ['%%'] },
      { L: {} },
      { NULL: false },
      { BOOL: 'yes' },
      { M: [] },
    ]) {
      expect(() => fromJsonValue(bad)).toThrow(BackupFormatError);
    }
    expect(() => fromJsonItem('item')).toThrow(BackupFormatError);
  });
});

describe('backup lines', () => {
  const manifest: BackupLine = {
    type: 'manifest',
    format: 'adsengineer-backup',
    version: 1,
    job_id: 'bkp_1',
    created_at: '2026-01-01T00:00:00.000Z',
    tables: ['tenants', 'leads'],
  };
  const item = (table: 'tenants' | 'leads' | 'audit'): BackupLine => ({
    type: 'item',
    table,
    item: { pk: { S: 'x' } },
  });
  const end = (table: 'tenants' | 'leads' | 'audit', count: number): BackupLine => ({
    type: 'table_end',
    table,
    count,
  });
  const good: BackupLine[] = [
    manifest,
    item('tenants'),
    item('tenants'),
    end('tenants', 2),
    end('leads', 0),
    { type: 'end', item_counts: { tenants: 2, leads: 0 }, total_items: 2 },
  ];

  const check = (lines: BackupLine[]) => {
    const checker = new BackupChecker();
    for (const line of lines) checker.accept(parseLine(encodeLine(line)));
    return checker.finish();
  };

  test('a well-formed backup passes, with its counts', () => {
    expect(check(good)).toEqual({ jobId: 'bkp_1', itemCounts: { tenants: 2, leads: 0 }, totalItems: 2 });
  });

  test.each([
    ['no manifest first', good.slice(1)],
    ['a second manifest', [manifest, ...good]],
    ['items of a table outside the manifest', [manifest, item('audit'), ...good.slice(1)]],
    ['items of two tables interleaved', [manifest, item('tenants'), item('leads'), ...good.slice(2)]],
    ['a count that does not match', [manifest, item('tenants'), end('tenants', 2), ...good.slice(4)]],
    ['a table ended twice', [...good.slice(0, 4), end('tenants', 0), ...good.slice(4)]],
    ['a table closed while another is open', [manifest, item('tenants'), end('leads', 0)]],
    ['an item after its table ended', [...good.slice(0, 4), item('tenants')]],
    ['the end while a table is open', [manifest, item('tenants'), good[5] as BackupLine]],
    ['the end before every table', [...good.slice(0, 4), good[5] as BackupLine]],
    [
      'an end line with other counts',
      [
        ...good.slice(0, 5),
        { type: 'end', item_counts: { tenants: 3, leads: 0 }, total_items: 3 } as BackupLine,
      ],
    ],
    [
      'an end line naming an extra table',
      [
        ...good.slice(0, 5),
        { type: 'end', item_counts: { tenants: 2, leads: 0, audit: 0 }, total_items: 2 } as BackupLine,
      ],
    ],
    ['lines after the end', [...good, item('tenants')]],
    ['no end line', good.slice(0, 5)],
  ])('%s is refused', (_name, lines) => {
    expect(() => check(lines)).toThrow(BackupFormatError);
  });

  test('lines that are not JSON or not of a known kind are refused', () => {
    expect(() => parseLine('{')).toThrow('not JSON');
    expect(() => parseLine('{"type":"item","table":"nope","item":{}}')).toThrow('known kind');
    expect(() => parseLine('{"type":"manifest","format":"other","version":1}')).toThrow('known kind');
  });

  test('the checker reports the job while reading', () => {
    const checker = new BackupChecker();
    expect(checker.jobId).toBeUndefined();
    checker.accept(manifest);
    checker.accept(item('tenants'));
    checker.accept(end('tenants', 1));
    expect(checker.jobId).toBe('bkp_1');
    expect(checker.itemCounts).toEqual({ tenants: 1 });
  });
});

describe('backup jobs', () => {
  test('a schedule event names one job, the same on every delivery, shaped like every id', () => {
    const id = scheduledJobId('evt-1', '2026-03-01T03:17:00Z');
    expect(id).toMatch(ID_PATTERN);
    expect(id.startsWith('bkp_')).toBe(true);
    expect(scheduledJobId('evt-1', '2026-03-01T03:17:00Z')).toBe(id);
    expect(scheduledJobId('evt-2', '2026-03-01T03:17:00Z')).not.toBe(id);
    expect(scheduledJobId('evt-1', '2026-03-02T03:17:00Z') > id).toBe(true);
    expect(() => scheduledJobId('evt-1', 'yesterday')).toThrow('not a time');
  });

  test('objects are keyed below backups/ by creation day', () => {
    expect(objectKeyFor({ id: 'bkp_x', created_at: '2026-03-01T03:17:00.000Z' })).toBe(
      'backups/2026/03/01/bkp_x.aebk',
    );
  });

  test('queue messages: api with a job id, schedule with event id and time', () => {
    const api = { version: 1, trigger: 'api', job_id: 'bkp_01jd0000000000000000000000' } as const;
    expect(parseBackupMessage(serializeBackupMessage(api))).toEqual(api);
    const schedule = {
      version: 1,
      trigger: 'schedule',
      event_id: 'e-1',
      scheduled_at: '2026-03-01T03:17:00Z',
    } as const;
    expect(parseBackupMessage(JSON.stringify(schedule))).toEqual(schedule);
    for (const bad of [
      'not json',
      '{}',
      JSON.stringify({ ...api, job_id: '../etc' }),
      JSON.stringify({ ...api, version: 2 }),
      JSON.stringify({ version: 1, trigger: 'schedule', event_id: 'e' }),
    ]) {
      expect(() => parseBackupMessage(bad)).toThrow(InvalidMessageError);
    }
  });
});

describe('backup settings', () => {
  const saved = process.env.BACKUP_KMS_KEY_ID;
  afterEach(() => {
    if (saved === undefined) delete process.env.BACKUP_KMS_KEY_ID;
    else process.env.BACKUP_KMS_KEY_ID = saved;
  });

  test('an unset, empty or blank key is no key', () => {
    delete process.env.BACKUP_KMS_KEY_ID;
    expect(backupKeyId()).toBeUndefined();
    for (const value of ['', '   ']) {
      process.env.BACKUP_KMS_KEY_ID = value;
      expect(backupKeyId()).toBeUndefined();
    }
    process.env.BACKUP_KMS_KEY_ID = 'alias/backup';
    expect(backupKeyId()).toBe('alias/backup');
  });

  test('the contract 503', () => {
    const error = backupEncryptionRequired();
    expect(error.kind).toBe('unavailable');
    expect(error.code).toBe('backup_encryption_required');
    expect(error.message).toBe('Cannot perform backup without encryption key. Contact administrator.');
    expect(error.extra).toEqual({ code: 'BACKUP_ENCRYPTION_REQUIRED' });
    const result = errorResult(error, 'req-1');
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(result.body)).toEqual({
      error: 'backup_encryption_required',
      message: 'Cannot perform backup without encryption key. Contact administrator.',
      request_id: 'req-1',
      code: 'BACKUP_ENCRYPTION_REQUIRED',
    });
  });
});
